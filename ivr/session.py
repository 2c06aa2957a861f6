"""Per-call IVR state in Redis: one hash per CallSid, with a TTL.

Twilio repeats and reorders requests. Every Gather action carries the step it answers; a step
is applied once (compare-and-set in Lua) and its TwiML answer is kept, so a repeat gets the same
answer and a stale step changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis

_START = """
if redis.call('HEXISTS', KEYS[1], 'step') == 1 then
  return redis.call('HGET', KEYS[1], 'r:0') or ''
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return false
"""

_ADVANCE = """
if redis.call('HGET', KEYS[1], 'step') ~= ARGV[1] then
  return redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[3], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# Returns 2 for the first terminal event of a call, 1 for a progress event, 0 for a repeat.
_STATUS = """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
if ARGV[2] == '1' then
  if redis.call('HSETNX', KEYS[1], 'ended', '1') == 0 then
    return 0
  end
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return 2
end
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


# Calls that ended and wait to be written to their tickets; a job drains it every second. A list
# in Redis, not a job per call: the status webhook pays one LPUSH, and when the database is
# down the calls simply wait here until it is back.
ENDED_CALLS = "ivr:ended"
ENDED_CALLS_TAKEN = "ivr:ended:taken"
# Every call not yet on its ticket, by start time: a call whose last status callback never came
# is found here and logged anyway.
OPEN_CALLS = "ivr:open"


def session_key(call_sid: str) -> str:
    # The hash tag keeps a call's keys in one Redis Cluster slot for the Lua scripts.
    return f"ivr:{{{call_sid}}}"


def status_key(call_sid: str, event_id: str) -> str:
    return f"ivr:{{{call_sid}}}:status:{event_id}"


def flatten(fields: dict[str, Any]) -> list[str]:
    """Fields as the scripts take them: name, value, ...; times as epoch seconds."""
    flat: list[str] = []
    for name, value in fields.items():
        flat.append(name)
        if isinstance(value, bool):
            flat.append("1" if value else "0")
        elif isinstance(value, datetime):
            flat.append(repr(value.timestamp()))
        elif isinstance(value, list | dict):
            flat.append(json.dumps(value, ensure_ascii=False))
        else:
            flat.append(str(value))
    return flat


def _time(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


@dataclass
class CallState:
    """A call as the IVR knows it, parsed from its Redis hash."""

    call_sid: str
    raw: dict[str, str]
    language: str
    node: str
    step: int
    tries: int
    from_number: str | None
    to_number: str | None
    customer_id: int | None
    vip: bool
    after_hours: bool
    started_at: datetime | None
    path: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, call_sid: str, raw: dict[str, str]) -> CallState:
        return cls(
            call_sid=call_sid,
            raw=raw,
            language=raw.get("lang", ""),
            node=raw.get("node", ""),
            step=int(raw.get("step", "0") or 0),
            tries=int(raw.get("tries", "0") or 0),
            from_number=raw.get("from") or None,
            to_number=raw.get("to") or None,
            customer_id=int(raw["customer_id"]) if raw.get("customer_id") else None,
            vip=raw.get("vip") == "1",
            after_hours=raw.get("after_hours") == "1",
            started_at=_time(raw.get("started_at")),
            path=json.loads(raw["path"]) if raw.get("path") else [],
        )

    @property
    def started(self) -> bool:
        """Whether the incoming-call webhook set this call up (status events alone do not)."""
        return self.step > 0

    def get(self, name: str) -> str | None:
        return self.raw.get(name) or None

    def time(self, name: str) -> datetime | None:
        return _time(self.raw.get(name))

    def flag(self, name: str) -> bool:
        return self.raw.get(name) == "1"


class SessionStore:
    """The async side, used by the voice webhooks."""

    def __init__(self, client: aioredis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._start = client.register_script(_START)
        self._advance = client.register_script(_ADVANCE)
        self._status = client.register_script(_STATUS)

    async def start(self, call_sid: str, fields: dict[str, Any], answer: str) -> str | None:
        """Create the call's session; for a repeated first request, the first answer."""
        args: list[str | int] = [self._ttl, *flatten({**fields, "step": 1, "r:0": answer})]
        started: datetime = fields["started_at"]
        async with self._redis.pipeline(transaction=False) as pipe:
            await self._start(keys=[session_key(call_sid)], args=args, client=pipe)
            pipe.zadd(OPEN_CALLS, {call_sid: started.timestamp()}, nx=True)
            previous, _ = await pipe.execute()
        return previous if isinstance(previous, str) and previous else None

    async def load(self, call_sid: str) -> CallState | None:
        raw: dict[str, str] = await self._redis.hgetall(session_key(call_sid))  # type: ignore[assignment]
        return CallState.parse(call_sid, raw) if raw else None

    async def advance(
        self, call_sid: str, step: int, fields: dict[str, Any], answer: str
    ) -> tuple[bool, str | None]:
        """Apply `step` once. (True, None) if applied here, else (False, the kept answer)."""
        args: list[str | int] = [step, self._ttl, answer, *flatten({**fields, "step": step + 1})]
        result = await self._advance(keys=[session_key(call_sid)], args=args)
        if result == 1:
            return True, None
        return False, result if isinstance(result, str) else None

    async def update(
        self, call_sid: str, fields: dict[str, Any], *, only_new: bool = False
    ) -> None:
        key = session_key(call_sid)
        async with self._redis.pipeline(transaction=True) as pipe:
            if only_new:
                flat = flatten(fields)
                for name, value in zip(flat[::2], flat[1::2], strict=True):
                    pipe.hsetnx(key, name, value)
            else:
                pipe.hset(key, mapping=dict(zip(*[iter(flatten(fields))] * 2, strict=True)))
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def record_status(
        self, call_sid: str, event_id: str, *, terminal: bool, fields: dict[str, Any]
    ) -> int:
        """2: first end of the call; 1: a progress event; 0: a repeat or late event."""
        args: list[str | int] = [self._ttl, "1" if terminal else "0", *flatten(fields)]
        result = await self._status(
            keys=[session_key(call_sid), status_key(call_sid, event_id)], args=args
        )
        return int(result)

    async def note_ended(self, call_sid: str) -> None:
        await self._redis.lpush(ENDED_CALLS, call_sid)


def record_status_sync(
    client: redis.Redis,
    call_sid: str,
    event_id: str,
    *,
    terminal: bool,
    flat_fields: list[str],
    ttl_seconds: int,
) -> int:
    """The job side of `SessionStore.record_status`: the same script, the same answers."""
    args: list[str | int] = [ttl_seconds, "1" if terminal else "0", *flat_fields]
    result = client.eval(_STATUS, 2, session_key(call_sid), status_key(call_sid, event_id), *args)
    return int(result)


def load_sync(client: redis.Redis, call_sid: str) -> CallState | None:
    """The job side: the same state through a synchronous client."""
    raw_bytes: dict[bytes, bytes] = client.hgetall(session_key(call_sid))  # type: ignore[assignment]
    if not raw_bytes:
        return None
    raw = {key.decode(): value.decode() for key, value in raw_bytes.items()}
    return CallState.parse(call_sid, raw)


def mark_logged(client: redis.Redis, call_sid: str, *, keep_seconds: int) -> None:
    """Once on the ticket, keep the session only long enough to absorb late repeats."""
    key = session_key(call_sid)
    pipe = client.pipeline()
    pipe.hset(key, "logged", "1")
    pipe.expire(key, keep_seconds)
    pipe.zrem(OPEN_CALLS, call_sid)
    pipe.execute()


def forgotten_calls(client: redis.Redis, *, started_before: float, limit: int) -> list[str]:
    """Calls started before `started_before` (epoch) and still not on their tickets."""
    raw = client.zrangebyscore(OPEN_CALLS, "-inf", started_before, start=0, num=limit)
    return [item.decode() if isinstance(item, bytes) else str(item) for item in raw]


def close_forgotten(client: redis.Redis, call_sid: str, *, now: datetime) -> bool:
    """Mark a call whose end never reached us as ended now; True if this closed it."""
    key = session_key(call_sid)
    if not client.exists(key):
        client.zrem(OPEN_CALLS, call_sid)  # its session expired: nothing left to log
        return False
    if not client.hsetnx(key, "ended", "1"):
        return False
    client.hset(key, mapping={"ended_at": repr(now.timestamp()), "twilio_status": "unknown"})
    client.lpush(ENDED_CALLS, call_sid)
    return True
