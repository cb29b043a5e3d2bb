"""The log writer thread: group commit for the txn log.

The event loop hands over batches with `submit`; the thread takes everything queued at once, appends it, and
fsyncs once, then reports each batch durable through `notify` (the runtime passes loop.call_soon_threadsafe).
While one fsync runs, new batches queue up and share the next one: that is the group commit. A failed write
or fsync acknowledges nothing of what it held, and nothing queued behind it either: those batches are
reported to `on_error`, and the writer drops every batch until the runtime calls `resume()` (after the core
has taken back what was not written). The log then continues in a fresh file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .. import timings
from .txnlog import TxnLog

log = logging.getLogger("zoopark.persist")

Batch = tuple[list[tuple[int, bytes]], Callable[[], None], int]  # entries, on_durable, epoch


def _run_all(callbacks: list[Callable[[], None]]) -> Callable[[], None]:
    """One wake-up of the event loop for a whole fsync group."""

    def run() -> None:
        for cb in callbacks:
            cb()
    return run


class WriterStats:
    __slots__ = ("fsyncs", "entries", "bytes", "last_fsync_ms", "recent_fsync_ms", "failures")

    def __init__(self) -> None:
        self.fsyncs = 0
        self.entries = 0
        self.bytes = 0
        self.last_fsync_ms = 0.0
        self.recent_fsync_ms: deque[float] = deque(maxlen=1024)
        self.failures = 0


class LogWriter:
    def __init__(
        self,
        log_dir: Path,
        prealloc_bytes: int,
        force_sync: bool,
        notify: Callable[[Callable[[], None]], object],
        on_error: Callable[[BaseException, list[Callable[[], None]]], None],
        batch_entries_max: int = 10_000,
    ) -> None:
        self.log = TxnLog(log_dir, prealloc_bytes, force_sync)
        self._notify = notify
        self._on_error = on_error
        self._batch_entries_max = batch_entries_max
        self._queue: deque[Batch] = deque()
        self._cv = threading.Condition()
        self._closing = False
        self._epoch = 0  # batches submitted before the last failure carry an older epoch and are dropped
        self._failed = False
        self._roll = False
        self._writing = False
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="zoopark-txnlog", daemon=True)
        self._thread.start()

    def submit(self, entries: list[tuple[int, bytes]], on_durable: Callable[[], None]) -> None:
        with self._cv:
            assert not self._closing, "submit after close"
            self._queue.append((entries, on_durable, self._epoch))
            self._cv.notify()

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Block until everything submitted so far is written (or failed); True if it was in time."""
        end = time.monotonic() + timeout_s
        with self._cv:
            while self._queue or self._writing:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    def roll(self) -> None:
        """Start a new log file at the next append (a snapshot has begun: recovery replays from there)."""
        with self._cv:
            self._roll = True

    def resume(self) -> None:
        """After a failure has been handled: accept batches again (anything submitted before is dropped)."""
        with self._cv:
            self._epoch += 1
            self._failed = False

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join(timeout=30)
        self.log.close()

    def _take(self) -> list[Batch] | None:
        with self._cv:
            while not self._queue and not self._closing:
                self._cv.wait()
            if not self._queue:
                return None
            taken: list[Batch] = []
            self._writing = True
            n = 0
            while self._queue and n < self._batch_entries_max:
                b = self._queue.popleft()
                if self._failed or b[2] != self._epoch:
                    continue  # its txns were taken back by the core when the failure was reported
                taken.append(b)
                n += len(b[0])
            return taken

    def _run(self) -> None:
        while True:
            batches = self._take()
            if batches is None:
                return
            try:
                if batches:
                    self._run_batches(batches)
            finally:
                with self._cv:
                    self._writing = False
                    self._cv.notify_all()

    def _run_batches(self, batches: list[Batch]) -> None:
        try:
            self._write(batches)
        except OSError as e:
            self.stats.failures += 1
            log.error("txn log write failed (%s): %d batches not acknowledged", e, len(batches))
            with self._cv:
                self._failed = True
                failed = batches + list(self._queue)
                self._queue.clear()
            self._notify(lambda e=e, cbs=[b[1] for b in failed]: self._on_error(e, cbs))
            return
        callbacks = [b[1] for b in batches]
        self._notify(callbacks[0] if len(callbacks) == 1 else _run_all(callbacks))

    def _write(self, batches: list[Batch]) -> None:
        with self._cv:
            roll, self._roll = self._roll, False
        if roll:
            self.log.roll()
        n = 0
        for entries, _, _ in batches:
            for zxid, entry in entries:
                self.log.append(zxid, entry)
                n += 1
                self.stats.bytes += len(entry)
        start = time.perf_counter()
        self.log.sync()
        ms = (time.perf_counter() - start) * 1000
        timings.FSYNC.observe(ms / 1000)
        self.stats.fsyncs += 1
        self.stats.entries += n
        self.stats.last_fsync_ms = ms
        self.stats.recent_fsync_ms.append(ms)
