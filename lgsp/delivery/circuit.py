"""A circuit breaker per endpoint: after repeated transient failures, stop trying for a while.

closed ──N consecutive transient failures──▶ open ──open_seconds──▶ half-open (one probe)
   ▲                                                                   │
   └──────────────── the probe succeeds ◀──────────────────────────────┘ (fails: open again)

While open, the endpoint's queue is not consumed at all, so no attempt is spent on a destination
known to be down; other endpoints keep flowing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from lgsp.routing.model import CircuitPolicy


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Circuit:
    def __init__(self, policy: CircuitPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self.state = CircuitState.CLOSED

    def record_success(self) -> None:
        self._failures = 0
        self.state = CircuitState.CLOSED

    def record_failure(self) -> bool:
        """Count a transient failure; True when this one opens the circuit."""
        self._failures += 1
        if self.state is CircuitState.HALF_OPEN or self._failures >= self._policy.failures:
            opened = self.state is not CircuitState.OPEN
            self.state = CircuitState.OPEN
            self._opened_at = self._clock()
            return opened
        return False

    def seconds_until_probe(self) -> float:
        return max(0.0, self._opened_at + self._policy.open_seconds - self._clock())

    def start_probe(self) -> None:
        self.state = CircuitState.HALF_OPEN
