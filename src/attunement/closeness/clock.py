"""Clocks for the live session: the real one, and a hand-driven one for tests.

A clock tells the current time (timezone-aware, UTC) and a *speed*: how many seconds of protocol
time pass per real second. With ``speed = 1`` a 15-minute set lasts 15 real minutes; a test or a
demo sets :attr:`Settings.clock_speed` to, say, 600 so the same set lasts 1.5 real seconds.
Stored timestamps are always real times; only durations are scaled, so a server restarted with
another speed never sees time run backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from attunement.errors import InvalidInputError

__all__ = ["Clock", "ManualClock", "SystemClock", "protocol_seconds"]


class Clock(Protocol):
    """Anything that tells the time and how fast protocol time runs."""

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime: ...


def _check_speed(speed: float) -> float:
    if not speed > 0:
        raise InvalidInputError(
            f"clock speed must be a positive number, got {speed!r}",
            hint="Use 1 for real time; a larger number makes timers run faster (tests only).",
        )
    return float(speed)


@dataclass(frozen=True)
class SystemClock:
    """The real clock, with protocol time running ``speed`` times faster than real time."""

    speed: float = 1.0

    def __post_init__(self) -> None:
        _check_speed(self.speed)

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that only moves when told to (tests): ``advance(seconds)`` moves real time."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    speed: float = 1.0

    def __post_init__(self) -> None:
        _check_speed(self.speed)
        if self.current.tzinfo is None:
            raise InvalidInputError("ManualClock needs a timezone-aware start time")

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        """Move real time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise InvalidInputError("a clock cannot go backwards", problems=[])
        self.current = self.current + timedelta(seconds=seconds)
        return self.current


def protocol_seconds(start: datetime, end: datetime, speed: float) -> float:
    """Protocol seconds elapsed between two real times: ``(end - start) * speed``, never < 0."""
    return max(0.0, (end - start).total_seconds() * speed)
