"""The txn log writer thread: generations fence it (a role that ended cannot append), and no exception kills
it (a failure ends the generation that failed and the writer goes on for the next one)."""

from __future__ import annotations

import threading

import pytest

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.quorum import make_zxid
from zoopark.core.jute.records import CreateSessionTxn, TxnHeader
from zoopark.core.jute.txns import encode_txn
from zoopark.persist import txnlog
from zoopark.persist.writer import LogWriter


def entry(zxid: int) -> tuple[int, bytes]:
    return zxid, encode_txn(TxnHeader(0x1234, 0, zxid, 0, OpCode.CREATE_SESSION), CreateSessionTxn(30000))


class Reports:
    """The writer's notify and on_error, run on its thread; a test can hold the thread in `notify`."""

    def __init__(self) -> None:
        self.errors: list[tuple[BaseException, int, int]] = []  # (exception, batches, generation)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()
        self.error_seen = threading.Event()

    def notify(self, cb) -> None:
        self.waiting.set()
        assert self.gate.wait(10)
        cb()

    def on_error(self, exc: BaseException, callbacks: list, generation: int) -> None:
        self.errors.append((exc, len(callbacks), generation))
        self.error_seen.set()


@pytest.fixture
def writer(tmp_path):
    reports = Reports()
    w = LogWriter(tmp_path, 0, False, reports.notify, reports.on_error)
    yield w, reports
    reports.gate.set()
    w.close()


def on_disk(tmp_path) -> list[int]:
    return [e.zxid for e in txnlog.iter_entries(tmp_path, 0)]


def durable_event() -> tuple[threading.Event, object]:
    ev = threading.Event()
    return ev, ev.set


def test_an_ended_generation_cannot_append_and_its_queued_batches_are_never_written(writer, tmp_path) -> None:
    w, reports = writer
    g1 = w.begin()
    first, cb1 = durable_event()
    reports.gate.clear()  # hold the thread once it has written the first batch
    assert w.submit([entry(make_zxid(3, 1))], cb1, g1)
    assert reports.waiting.wait(10)
    queued, cb2 = durable_event()
    assert w.submit([entry(make_zxid(3, 2))], cb2, g1)  # queued behind the write in progress
    w.end(g1)  # the role is deposed
    assert not w.is_open(g1)
    refused, cb3 = durable_event()
    assert not w.submit([entry(make_zxid(3, 3))], cb3, g1), "a submit of an ended generation is refused"
    reports.gate.set()
    assert first.wait(10)
    g2 = w.begin()  # the next role
    later, cb4 = durable_event()
    assert w.submit([entry(make_zxid(4, 1))], cb4, g2)
    assert later.wait(10)
    assert w.drain()
    assert not queued.is_set() and not refused.is_set()
    assert on_disk(tmp_path) == [make_zxid(3, 1), make_zxid(4, 1)], "nothing of the ended generation after its end"
    assert reports.errors == []


def test_a_non_oserror_in_the_thread_ends_that_generation_only_and_the_writer_lives_on(writer, tmp_path) -> None:
    w, reports = writer
    g1 = w.begin()
    ok, cb = durable_event()
    assert w.submit([entry(make_zxid(4, 5))], cb, g1)
    assert ok.wait(10)
    # A zxid behind the log's end: TxnLog.append's assertion fails inside the thread (what a deposed role's
    # batch reaching the log after a later epoch's txns did).
    behind, cb_behind = durable_event()
    assert w.submit([entry(make_zxid(3, 7)), entry(make_zxid(3, 8))], cb_behind, g1)
    assert reports.error_seen.wait(10), "the failure was reported"
    exc, batches, gen = reports.errors[0]
    assert isinstance(exc, AssertionError) and batches == 1 and gen == g1
    assert not behind.is_set(), "nothing of the failed batch was acknowledged"
    assert not w.is_open(g1), "the failed generation has ended"
    assert w._thread.is_alive(), "the writer thread survived"
    g2 = w.begin()
    after, cb_after = durable_event()
    assert w.submit([entry(make_zxid(4, 6)), entry(make_zxid(4, 7))], cb_after, g2)
    assert after.wait(10), "the next generation's appends are written"
    assert on_disk(tmp_path) == [make_zxid(4, 5), make_zxid(4, 6), make_zxid(4, 7)]


def test_a_failure_reported_for_an_old_generation_does_not_end_the_open_one(writer, tmp_path) -> None:
    w, reports = writer
    g1 = w.begin()
    reports.gate.clear()
    assert w.submit([entry(make_zxid(2, 1))], lambda: None, g1)
    assert reports.waiting.wait(10)
    assert w.submit([entry(make_zxid(1, 1))], lambda: None, g1)  # will fail: behind the log
    g2 = w.begin()  # g1 ended with its failing batch still queued: it is dropped, never tried
    reports.gate.set()
    ok, cb = durable_event()
    assert w.submit([entry(make_zxid(2, 2))], cb, g2)
    assert ok.wait(10)
    assert w.is_open(g2) and reports.errors == []


def test_after_a_truncation_the_log_takes_the_txns_after_the_cut(writer, tmp_path) -> None:
    """TRUNC: a member that logged 0x4_1..0x4_3 as a leader nobody followed is cut back to 0x3_9 and then
    logs the new leader's 0x3_a: the writer must not judge it against the txns that were cut."""
    w, reports = writer
    g1 = w.begin()
    done, cb = durable_event()
    assert w.submit([entry(make_zxid(3, n)) for n in range(1, 10)] + [entry(make_zxid(4, n)) for n in (1, 2, 3)],
                    cb, g1)
    assert done.wait(10)
    w.truncate(make_zxid(3, 9))
    again, cb2 = durable_event()
    assert w.submit([entry(make_zxid(3, 10))], cb2, g1)
    assert again.wait(10)
    assert reports.errors == []
    assert on_disk(tmp_path) == [make_zxid(3, n) for n in range(1, 11)]


def test_an_inline_write_is_durable_before_submit_returns_and_runs_its_callback_there(writer, tmp_path) -> None:
    w, reports = writer
    ran_on: list[str] = []
    assert w.submit([entry(make_zxid(1, 1)), entry(make_zxid(1, 2))],
                    lambda: ran_on.append(threading.current_thread().name), inline=True)
    assert ran_on == [threading.current_thread().name], "the callback ran on the submitting thread, at once"
    assert on_disk(tmp_path) == [make_zxid(1, 1), make_zxid(1, 2)]
    assert w.stats.fsyncs == 1 and w.stats.entries == 2
    ok, cb = durable_event()
    assert w.submit([entry(make_zxid(1, 3))], cb)  # the thread takes the next one as before
    assert ok.wait(10)
    assert on_disk(tmp_path) == [make_zxid(1, n) for n in (1, 2, 3)]


def test_a_roll_starts_a_new_file_whether_the_next_write_is_inline_or_not(writer, tmp_path) -> None:
    """A snapshot rolls the log: recovery replays from the file that starts after it."""
    w, _ = writer
    assert w.submit([entry(make_zxid(1, 1))], lambda: None, inline=True)
    w.roll()
    assert w.submit([entry(make_zxid(1, 2))], lambda: None, inline=True)
    w.roll()
    ok, cb = durable_event()
    assert w.submit([entry(make_zxid(1, 3))], cb)
    assert ok.wait(10)
    assert [z for z, _ in txnlog.log_files(tmp_path)] == [make_zxid(1, n) for n in (1, 2, 3)]
    assert on_disk(tmp_path) == [make_zxid(1, n) for n in (1, 2, 3)]


def test_an_inline_write_while_the_thread_is_busy_queues_behind_it_in_order(writer, tmp_path) -> None:
    w, reports = writer
    first, cb1 = durable_event()
    reports.gate.clear()  # hold the thread once it has written the first batch
    assert w.submit([entry(make_zxid(1, 1))], cb1)
    assert reports.waiting.wait(10)
    second, cb2 = durable_event()
    assert w.submit([entry(make_zxid(1, 2))], cb2, inline=True)
    assert not second.is_set(), "not written here: the thread was busy, so it queued"
    reports.gate.set()
    assert first.wait(10) and second.wait(10)
    assert on_disk(tmp_path) == [make_zxid(1, 1), make_zxid(1, 2)]


def test_batches_queued_without_waking_the_thread_are_written_in_order_once_kicked(writer, tmp_path) -> None:
    """The standalone server queues a loop turn's batches with wake=False and kicks the thread once at the end
    of the turn: every one of them is then written, in order, and acknowledged only after its sync."""
    w, _ = writer
    done = [durable_event() for _ in range(3)]
    for n, (_, cb) in enumerate(done, 1):
        assert w.submit([entry(make_zxid(1, n))], cb, wake=False)
    w.kick()
    assert all(ev.wait(10) for ev, _ in done)
    assert on_disk(tmp_path) == [make_zxid(1, n) for n in (1, 2, 3)]
    assert w.stats.entries == 3


def test_drain_writes_batches_queued_without_waking_the_thread(writer, tmp_path) -> None:
    w, _ = writer
    ok, cb = durable_event()
    assert w.submit([entry(make_zxid(1, 1))], cb, wake=False)
    assert w.drain(10), "drain() waited for a thread nobody woke"
    assert ok.wait(10)
    assert on_disk(tmp_path) == [make_zxid(1, 1)]


def test_an_inline_write_that_fails_acknowledges_nothing_and_ends_its_generation(writer, tmp_path) -> None:
    w, reports = writer
    g1 = w.begin()
    assert w.submit([entry(make_zxid(2, 1))], lambda: None, g1, inline=True)
    acked: list[int] = []
    assert w.submit([entry(make_zxid(1, 9))], lambda: acked.append(1), g1, inline=True)  # behind the log
    assert reports.error_seen.wait(10)
    assert acked == [] and not w.is_open(g1)
    assert isinstance(reports.errors[0][0], AssertionError) and reports.errors[0][2] == g1
    g2 = w.begin()
    assert w.submit([entry(make_zxid(2, 2))], lambda: acked.append(2), g2, inline=True)
    assert acked == [2]
    assert on_disk(tmp_path) == [make_zxid(2, 1), make_zxid(2, 2)]


@pytest.mark.parametrize("dsync", ["pwritev2", "pwrite+fdatasync", "pwritev2 refused"])
def test_each_way_of_syncing_writes_the_same_log(tmp_path, monkeypatch, dsync) -> None:
    """RWF_DSYNC where the kernel has it, write + fdatasync where not (or where pwritev2 refuses the flag)."""
    import errno
    import os

    calls: list[str] = []
    real_pwritev, real_fdatasync = os.pwritev, os.fdatasync

    def pwritev(fd, buffers, offset, flags=0):
        calls.append("pwritev")
        if dsync == "pwritev2 refused":
            raise OSError(errno.EOPNOTSUPP, "not here")
        return real_pwritev(fd, buffers, offset, flags)

    def fdatasync(fd):
        calls.append("fdatasync")
        return real_fdatasync(fd)

    monkeypatch.setattr(os, "pwritev", pwritev)
    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(txnlog, "_dsync", dsync != "pwrite+fdatasync" and bool(txnlog._RWF_DSYNC))
    log = txnlog.TxnLog(tmp_path, 4096)
    log.extend([entry(make_zxid(1, n)) for n in range(1, 40)])
    assert log.sync() > 0
    log.append(*entry(make_zxid(1, 40)))
    log.sync()
    log.close()
    assert on_disk(tmp_path) == [make_zxid(1, n) for n in range(1, 41)]
    if dsync == "pwritev2" and txnlog._RWF_DSYNC:
        assert calls == ["pwritev", "pwritev"], "one system call per sync"
    elif dsync == "pwritev2 refused" and txnlog._RWF_DSYNC:
        assert calls == ["pwritev", "fdatasync", "fdatasync"], "refused once, then write + fdatasync"
        assert not txnlog._dsync
    else:
        assert calls == ["fdatasync", "fdatasync"]
