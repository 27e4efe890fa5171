"""The one timing loop of the CPU micro-benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def cpu_us_per_call(action: Callable[[], object], seconds: float, rounds: int = 5) -> dict[str, float]:
    """CPU µs per call of ``action`` (process time: a busy machine inflates it less than wall time),
    the median and the best of ``rounds`` rounds sharing ``seconds``."""
    per_call: list[float] = []
    for _ in range(rounds):
        count = 0
        started = time.process_time()
        deadline = started + seconds / rounds
        while time.process_time() < deadline:
            for _ in range(100):
                action()
            count += 100
        per_call.append((time.process_time() - started) / count * 1e6)
    return {"cpu_us_median": round(statistics.median(per_call), 1), "cpu_us_min": round(min(per_call), 1)}
