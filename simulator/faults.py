"""Faults Twilio's REST API can play, switched on and off at run time from any thread.

- `fail_with(500)`: every request answers with that status (Twilio's error body), until
  `fail_with(None)`.
- `hang = True`: every request waits, past any client's timeout, until `hang = False`.
- `hold(operation, taken=...)`: requests of one operation ("messages.create", "calls.create")
  wait until `release()`. Held before Twilio takes them (`taken=False`), they are then lost
  (answered 503, nothing stored); held after (`taken=True`), the message is stored and sent, the
  call placed, but the client gets its answer only then: what a worker killed mid-request
  leaves behind.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass

_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class _Hold:
    operation: str
    taken: bool


class RestFaults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: int | None = None
        self.hang = False
        self._hold: _Hold | None = None
        self._waiting: Counter[str] = Counter()
        self.failed = 0
        self.hung = 0

    def fail_with(self, status: int | None) -> None:
        with self._lock:
            self._status = status

    def hold(self, operation: str, *, taken: bool) -> None:
        with self._lock:
            self._hold = _Hold(operation, taken)

    def release(self) -> None:
        with self._lock:
            self._hold = None

    def waiting(self, operation: str) -> int:
        """How many requests of `operation` are held now."""
        with self._lock:
            return self._waiting[operation]

    def failure(self) -> int | None:
        """The status every request answers with now, if any (counted)."""
        with self._lock:
            if self._status is not None:
                self.failed += 1
            return self._status

    async def hang_while_on(self) -> None:
        if not self.hang:
            return
        self.hung += 1
        while self.hang:
            await asyncio.sleep(_POLL_SECONDS)

    async def hold_point(self, operation: str, *, taken: bool) -> bool:
        """Wait here while `operation` is held at this point; True if the request is lost."""
        if self._hold != _Hold(operation, taken):
            return False
        with self._lock:
            self._waiting[operation] += 1
        try:
            while self._hold == _Hold(operation, taken):
                await asyncio.sleep(_POLL_SECONDS)
        finally:
            with self._lock:
                self._waiting[operation] -= 1
        return not taken
