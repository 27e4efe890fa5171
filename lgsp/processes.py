"""Several bus processes on one port: one Python process uses one core, whatever the machine has.

The kernel spreads incoming connections over the processes (SO_REUSEPORT). Each process ingests and
delivers on its own and shares the ledger and the broker with the others exactly as separate
instances do. The first also runs what must run once: the inbound pollers and the outbox sweeper.

The parent only supervises. It starts the first process and waits until it is ready, so that one
process, not all, records a new routing table; then it starts the others. It starts again any that
dies after it was ready (one that dies before stops the whole bus: starting it again would only
repeat the failure), passes SIGTERM and SIGINT on, and waits for all of them to finish their in-flight work.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

import structlog

log = structlog.get_logger("lgsp.processes")


@dataclass(slots=True)
class _Child:
    process: SpawnProcess
    ready: Event


class Supervisor:
    """Runs ``target(index, ready, *args)`` in ``count`` processes; ``target`` sets ``ready`` once started."""

    def __init__(self, count: int, target: Callable[..., None], args: tuple[Any, ...], stop_seconds: float) -> None:
        self._count = count
        self._target = target
        self._args = args
        self._stop_seconds = stop_seconds
        self._context = multiprocessing.get_context("spawn")  # no state of the parent's leaks in
        self._stopping = threading.Event()

    def run(self) -> int:
        """Exit status: 0 after a requested stop; when a process could not start, its own (or 1)."""
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda _number, _frame: self._stopping.set())
        children: list[_Child] = []
        try:
            children.append(self._start(0))
            if not self._wait_ready(children[0]):
                children[0].process.join()
                return children[0].process.exitcode or 1
            children.extend(self._start(index) for index in range(1, self._count))
            while not self._stopping.wait(0.5):
                for index, child in enumerate(children):
                    if child.process.is_alive():
                        continue
                    exit_code = child.process.exitcode
                    if not child.ready.is_set():  # a port in use, a bad setting: trying again repeats it
                        log.error("bus process could not start; stopping", index=index, exit_code=exit_code)
                        return exit_code or 1
                    log.error("bus process ended; starting it again", index=index, exit_code=exit_code)
                    children[index] = self._start(index)
            return 0
        finally:
            self._stop([child.process for child in children])

    def _start(self, index: int) -> _Child:
        ready = self._context.Event()
        process = self._context.Process(target=self._target, args=(index, ready, *self._args), name=f"lgsp-{index}")
        process.start()
        return _Child(process, ready)

    def _wait_ready(self, child: _Child) -> bool:
        while not child.ready.wait(0.2):
            if not child.process.is_alive() or self._stopping.is_set():
                return child.ready.is_set()
        return True

    def _stop(self, processes: list[SpawnProcess]) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the process finishes or hands back its in-flight work
        deadline = time.monotonic() + self._stop_seconds
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("bus process did not stop in time; killed", pid=process.pid)
                process.kill()
                process.join()
