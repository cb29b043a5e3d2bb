"""The log writer thread: group commit for the txn log.

The event loop hands over batches with `submit`; the thread takes everything queued at once, appends it, and
fsyncs once, then reports each batch durable through `notify` (the runtime passes loop.call_soon_threadsafe).
While one fsync runs, new batches queue up and share the next one: that is the group commit.

The hand-off costs as little as Python allows, since a connect storm pays it twice per session: the queue and
its flags sit under one plain lock, and an idle thread sleeps on a second lock that a submit releases only
when the thread sleeps (a threading.Condition made a lock and a deque entry per wait, and each submit notified
it); a submit while the thread writes just queues. Only drain() waits on a Condition (over the same lock).

Generations fence the log: each role of an ensemble member appends under a generation of its own (`begin`),
and once that generation has ended (`end`: the role is over, or its log failed) the writer refuses its appends
and drops its batches not yet written, so a deposed role cannot write, whatever task of it is still running.
A standalone server uses the one generation the writer opens at start (and `resume` after a failure).

A failed write or fsync, or any other exception in the thread, acknowledges nothing of what it held, nor
anything of its generation queued behind it: those batches are reported to `on_error` and the generation
ends. The thread itself never dies of it: the log continues in a fresh file for the next generation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .. import timings
from . import txnlog
from .txnlog import TxnLog

log = logging.getLogger("zoopark.persist")

Batch = tuple[list[tuple[int, bytes]], Callable[[], None], int]  # entries, on_durable, generation


def _run_all(callbacks: list[Callable[[], None]]) -> Callable[[], None]:
    """One wake-up of the event loop for a whole fsync group."""

    def run() -> None:
        for cb in callbacks:
            cb()
    return run


class WriterStats:
    __slots__ = ("fsyncs", "entries", "bytes", "last_fsync_ms", "recent_fsync_ms", "typical_fsync_ms", "failures")

    def __init__(self) -> None:
        self.fsyncs = 0
        self.entries = 0
        self.bytes = 0
        self.last_fsync_ms = 0.0
        self.recent_fsync_ms: deque[float] = deque(maxlen=1024)
        self.typical_fsync_ms = 0.0  # a moving average of the syncs (each weighs a fifth)
        self.failures = 0


class LogWriter:
    def __init__(
        self,
        log_dir: Path,
        prealloc_bytes: int,
        force_sync: bool,
        notify: Callable[[Callable[[], None]], object],
        on_error: Callable[[BaseException, list[Callable[[], None]], int], None],
        batch_entries_max: int = 10_000,
    ) -> None:
        self.log = TxnLog(log_dir, prealloc_bytes, force_sync)
        self._notify = notify
        self._on_error = on_error
        self._batch_entries_max = batch_entries_max
        self._queue: deque[Batch] = deque()
        self._lock = threading.Lock()  # the queue, the flags below and the generations
        self._wake = threading.Lock()  # held while the thread may sleep on it; released to wake it
        self._wake.acquire()
        self._sleeping = False  # the thread waits on _wake (or is about to): the next submit wakes it
        self._drained = threading.Condition(self._lock)  # for drain(): notified when a write ends
        self._draining = 0  # drain() calls waiting
        self._closing = False
        self._generations = 1
        self._open: int | None = 1  # the generation that may append; None: none (ended or failed)
        self._roll = False
        self._writing = False
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="zoopark-txnlog", daemon=True)
        self._thread.start()

    # ---- generations -----------------------------------------------------------------------------

    def begin(self) -> int:
        """A new generation may append from now on; every earlier one has ended."""
        with self._lock:
            self._generations += 1
            self._open = self._generations
            return self._open

    def end(self, generation: int) -> None:
        """`generation` may append no more: later submits of it are refused, its queued batches dropped
        (never written, never acknowledged). A batch being written when it ends still completes, but its
        `on_durable` is for the caller to ignore (the runtime's TurnBatch does)."""
        with self._lock:
            if self._open == generation:
                self._open = None

    def is_open(self, generation: int) -> bool:
        return self._open == generation

    def resume(self) -> None:
        """A standalone server after a failure has been handled: a new generation (nothing earlier is written)."""
        self.begin()

    def submit(self, entries: list[tuple[int, bytes]], on_durable: Callable[[], None],
               generation: int | None = None, inline: bool = False, wake: bool = True) -> bool:
        """Queue a batch of `generation` (the open one if None); False if refused (that generation ended).
        `inline`: if the thread is idle, write and sync the batch here and now instead, and run `on_durable`
        before returning (a lone write then pays no hand-off to the thread and back). `wake`=False: queue
        without waking the thread; the caller calls `kick` soon (a loop gathers its turn's batches so)."""
        with self._lock:
            assert not self._closing, "submit after close"
            gen = self._open if generation is None else generation
            if gen is None or gen != self._open:
                return False
            if not inline or self._queue or self._writing:
                self._queue.append((entries, on_durable, gen))
                if wake:
                    self._wake_thread()
                return True
            self._writing = True  # the thread waits until this write is done: one writer at a time
            roll, self._roll = self._roll, False
        synced = None
        try:
            synced = self._run_batches([(entries, on_durable, gen)], inline=True, roll=roll)
        finally:
            with self._lock:
                self._writing = False
                if self._queue:
                    self._wake_thread()
                if self._draining:
                    self._drained.notify_all()
        if synced is not None:
            try:
                on_durable()  # the replies leave before the bookkeeping
            finally:
                self._record(*synced)
        return True

    def kick(self) -> None:
        """Wake the thread for what was queued without waking it."""
        with self._lock:
            if self._queue:
                self._wake_thread()

    def _wake_thread(self) -> None:
        """With the lock held: wake the thread if it sleeps (once: _wake is released only while it is held)."""
        if self._sleeping:
            self._sleeping = False
            self._wake.release()

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Block until everything submitted so far is written (or failed); True if it was in time."""
        end = time.monotonic() + timeout_s
        with self._lock:
            if self._queue:
                self._wake_thread()  # batches queued without waking it (submit's `wake`)
            self._draining += 1
            try:
                while self._queue or self._writing:
                    left = end - time.monotonic()
                    if left <= 0:
                        return False
                    self._drained.wait(min(left, 0.05))
            finally:
                self._draining -= 1
        return True

    def roll(self) -> None:
        """Start a new log file at the next append (a snapshot has begun: recovery replays from there)."""
        with self._lock:
            self._roll = True

    def truncate(self, zxid: int) -> None:
        """Cut the log after `zxid` (a leader's TRUNC). Called on the loop that submits, so nothing is queued
        once the writer has drained; the next append (of a zxid at or below the old end) opens a new file."""
        assert self.drain(), "the txn log writer did not drain"
        with self._lock:
            assert not self._queue and not self._writing
            self._roll = False
            self.log.roll()
            txnlog.truncate(self.log.log_dir, zxid)
            self.log.abandon()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._wake_thread()
        self._thread.join(timeout=30)
        self.log.close()

    def _take(self, wrote: bool) -> list[Batch] | None:
        """The next batches to write (after the thread's own write, if `wrote`: it is over now); None once
        closing with nothing queued. Sleeps on _wake while there is nothing to do."""
        lock = self._lock
        lock.acquire()
        try:
            if wrote:
                self._writing = False
                if self._draining:
                    self._drained.notify_all()
            while (not self._queue or self._writing) and not self._closing:
                self._sleeping = True
                lock.release()
                try:
                    self._wake.acquire()
                finally:
                    lock.acquire()
            if not self._queue:
                return None
            taken: list[Batch] = []
            self._writing = True
            n = 0
            while self._queue and n < self._batch_entries_max:
                b = self._queue.popleft()
                if b[2] != self._open:
                    continue  # its generation ended (its role is over, or its log failed): never written
                taken.append(b)
                n += len(b[0])
            return taken
        finally:
            lock.release()

    def _run(self) -> None:
        batches = self._take(False)
        while batches is not None:
            try:
                if batches:
                    self._run_batches(batches)
            except Exception:  # noqa: BLE001 - a report that could not be delivered (a closed loop, say)
                log.exception("txn log writer: a batch's outcome could not be reported")
            batches = self._take(True)

    def _run_batches(self, batches: list[Batch], inline: bool = False,
                     roll: bool | None = None) -> tuple[int, int, float] | None:
        """Write and sync `batches`; None if they are not durable. Their callbacks go to the loop unless
        `inline`: then the caller runs them and records the sync (`_record` with what this returns) after
        them. `roll`: whether to start a new file first (None: take the flag `roll` set)."""
        try:
            synced = self._write(batches, roll)
        except Exception as e:  # noqa: BLE001 - whatever it was, the thread lives on: see _failed
            self._failed(e, batches)
            return None
        if not inline:
            # Recorded before the loop hears of it, so the fsync count never trails a txn it applied.
            self._record(*synced)
            callbacks = [b[1] for b in batches]
            self._notify(callbacks[0] if len(callbacks) == 1 else _run_all(callbacks))
        return synced

    def _failed(self, e: Exception, batches: list[Batch]) -> None:
        """Nothing of `batches` is durable, nor anything of their generation queued behind them: end that
        generation and report it all; the log goes on in a fresh file (what was appended and not synced is
        dropped, and any byte past the durable end zeroed)."""
        self.stats.failures += 1
        if isinstance(e, OSError):
            log.error("txn log write failed (%s): %d batches not acknowledged", e, len(batches))
        else:
            log.exception("txn log writer failed: %d batches not acknowledged", len(batches))
        try:
            self.log.abandon()
        except Exception:  # noqa: BLE001 - the next append opens a new file anyway
            log.exception("could not close the txn log file after a failure")
        gen = batches[0][2]
        with self._lock:
            if self._open == gen:
                self._open = None
            failed = batches + [b for b in self._queue if b[2] == gen]
            self._queue = deque(b for b in self._queue if b[2] != gen)
        self._notify(lambda e=e, cbs=[b[1] for b in failed], g=gen: self._on_error(e, cbs, g))

    def _write(self, batches: list[Batch], roll: bool | None = None) -> tuple[int, int, float]:
        """Append and sync `batches`: (entries, bytes, sync ms)."""
        if roll is None:
            with self._lock:
                roll, self._roll = self._roll, False
        if roll:
            self.log.roll()
        n = 0
        for entries, _, _ in batches:
            self.log.extend(entries)
            n += len(entries)
        nbytes = self.log.sync()
        return n, nbytes, self.log.sync_seconds * 1000

    def _record(self, n: int, nbytes: int, ms: float) -> None:
        timings.FSYNC.observe(ms / 1000)
        stats = self.stats
        stats.fsyncs += 1
        stats.entries += n
        stats.bytes += nbytes
        stats.last_fsync_ms = ms
        stats.recent_fsync_ms.append(ms)
        stats.typical_fsync_ms = ms if stats.fsyncs == 1 else stats.typical_fsync_ms * 0.8 + ms * 0.2
