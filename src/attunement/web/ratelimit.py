"""In-process limits on sign-in attempts, per account and per network address.

A sliding window counts *failed* attempts: by default at most 5 failures per account and 20
per IP address within 15 minutes. When a limit is reached, further attempts for that account
(or from that address) are refused with 429 until the oldest failure leaves the window, even
with the right password, so guessing gains nothing. A successful sign-in clears the account's
count.

The counts live in the server process: they reset on restart and are not shared between
several server processes. attunement runs as one process by default; behind several workers
each keeps its own count, so the effective limit is multiplied by the number of workers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["SignInLimiter"]


@dataclass
class _Window:
    limit: int
    seconds: float
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0 when it may try now)."""
        hits = self.hits.get(key)
        if not hits:
            return 0.0
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if not hits:
            del self.hits[key]
            return 0.0
        if len(hits) < self.limit:
            return 0.0
        return hits[0] + self.seconds - now

    def add(self, key: str, now: float) -> None:
        self.hits.setdefault(key, deque()).append(now)


class SignInLimiter:
    """Counts failed sign-ins per account (lower-cased email) and per client address."""

    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accounts = _Window(per_account, window_seconds)
        self._addresses = _Window(per_address, window_seconds)
        self._clock = clock
        self._lock = threading.Lock()

    def retry_after(self, email: str, address: str) -> int:
        """Whole seconds to wait before another attempt is allowed; 0 means go ahead."""
        now = self._clock()
        with self._lock:
            wait = max(
                self._accounts.retry_after(email.strip().lower(), now),
                self._addresses.retry_after(address, now),
            )
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, email: str, address: str) -> None:
        """Record one failed attempt."""
        now = self._clock()
        with self._lock:
            self._accounts.add(email.strip().lower(), now)
            self._addresses.add(address, now)

    def succeeded(self, email: str) -> None:
        """Forget the account's failures after a successful sign-in."""
        with self._lock:
            self._accounts.hits.pop(email.strip().lower(), None)
