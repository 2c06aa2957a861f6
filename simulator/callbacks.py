"""Call-progress status callbacks, optionally repeated and shuffled as Twilio may deliver them."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import format_datetime

from simulator.clock import SimClock
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint, post_callback

ALL_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class CallbackChaos:
    """`duplicate` sends each callback twice (same idempotency token); `shuffle` holds them
    until the call ends and sends them in random order."""

    duplicate: bool = False
    shuffle: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class _Pending:
    params: dict[str, str]
    token: str


class StatusCallbacks:
    """One call's status callbacks; `SequenceNumber` counts the events actually sent."""

    def __init__(
        self,
        *,
        endpoint: AppEndpoint,
        clock: SimClock,
        record: CallRecord,
        url: str | None,
        method: str = "POST",
        events: tuple[str, ...] = ALL_EVENTS,
        chaos: CallbackChaos = CallbackChaos(),
    ) -> None:
        self._endpoint = endpoint
        self._clock = clock
        self._record = record
        self._url = url
        self._method = method
        self._events = frozenset(events)
        self._chaos = chaos
        self._rng = random.Random(chaos.seed)
        self._sequence = 0
        self._held: list[_Pending] = []
        self._outbox: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def emit(self, event: str, base: Mapping[str, str], extra: Mapping[str, str]) -> None:
        if self._url is None or event not in self._events:
            return
        params = {
            **base,
            **extra,
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self._sequence),
            "Timestamp": format_datetime(self._clock.now()),
        }
        self._sequence += 1
        pending = _Pending(params, secrets.token_hex(16))
        copies = 2 if self._chaos.duplicate else 1
        for _ in range(copies):
            if self._chaos.shuffle:
                self._held.append(pending)
            else:
                self._outbox.put_nowait(pending)
        if not self._chaos.shuffle and self._worker is None:
            self._worker = asyncio.create_task(self._send_in_order())

    async def _send_in_order(self) -> None:
        while (pending := await self._outbox.get()) is not None:
            await self._send(pending)

    async def _send(self, pending: _Pending) -> None:
        assert self._url is not None
        await post_callback(
            self._endpoint,
            self._clock,
            self._record.events,
            url=self._url,
            params=pending.params,
            purpose="status-callback",
            method=self._method,
            idempotency_token=pending.token,
        )

    async def close(self) -> None:
        """Deliver everything still pending; call once, when the call has ended."""
        if self._worker is not None:
            self._outbox.put_nowait(None)
            await self._worker
        held, self._held = self._held, []
        self._rng.shuffle(held)
        for pending in held:
            await self._send(pending)
