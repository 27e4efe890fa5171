"""Group commit's one shared piece: taking a batch from a writer thread's queue."""

from __future__ import annotations

import queue
from typing import Any, Final

STOP: Final = object()  # put on the queue to end the writer after what is queued before it


def next_batch(source: queue.SimpleQueue[Any], limit: int) -> tuple[list[Any], bool]:
    """Wait for one item, then take whatever else is already queued, up to ``limit`` items:
    everything that arrived while the previous batch was being written goes in one transaction.
    The flag says whether ``STOP`` was met (nothing after it is taken)."""
    batch: list[Any] = []
    item = source.get()
    while item is not STOP:
        batch.append(item)
        if len(batch) >= limit:
            return batch, False
        try:
            item = source.get_nowait()
        except queue.Empty:
            return batch, False
    return batch, True
