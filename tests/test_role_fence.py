"""The role fence in-process (runtime/batching.py): a TurnBatch is bound to its role's log generation, and
once the role has ended nothing of it reaches the log, a peer, or the callbacks an fsync releases (ACKs,
commits), whatever was still queued or in flight. (Which role takes a connection is the member machine's
decision: tests/test_member_sim.py.)"""

from __future__ import annotations

import asyncio

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.quorum import make_zxid
from zoopark.core.jute.records import CreateSessionTxn, TxnHeader
from zoopark.core.jute.txns import encode_txn
from zoopark.persist import txnlog
from zoopark.persist.writer import LogWriter
from zoopark.runtime.batching import TurnBatch


def entry(zxid: int) -> tuple[int, bytes]:
    return zxid, encode_txn(TxnHeader(0x1234, 0, zxid, 0, OpCode.CREATE_SESSION), CreateSessionTxn(30000))


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False


async def _deposed_role(tmp_path) -> tuple[list[str], list[int], list[bytes], list]:
    loop = asyncio.get_running_loop()
    errors: list = []
    writer = LogWriter(tmp_path, 0, False, loop.call_soon_threadsafe, lambda *a: errors.append(a))
    released: list[str] = []
    try:
        old = TurnBatch(loop, writer, writer.begin())
        peer = Transport()
        old.append([entry(make_zxid(3, 1))], lambda: released.append("ack 3/1"))
        old.write(peer, b"proposal 3/1")
        old.flush()  # submitted, and the packet sent
        assert writer.drain()  # on disk; the fsync's callback waits for the loop, which is ours right now
        old.append([entry(make_zxid(3, 2))], lambda: released.append("ack 3/2"))  # queued this turn
        old.end()  # deposed before the loop turned
        old.append([entry(make_zxid(3, 3))], lambda: released.append("ack 3/3"))
        old.write(peer, b"proposal 3/3")
        old.flush()
        new = TurnBatch(loop, writer, writer.begin())  # the next role, a later epoch
        new.append([entry(make_zxid(4, 1))], lambda: released.append("ack 4/1"))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if "ack 4/1" in released:
                break
        assert writer.drain()
        return released, [e.zxid for e in txnlog.iter_entries(tmp_path, 0)], peer.written, errors
    finally:
        writer.close()


def test_a_deposed_roles_batch_logs_sends_and_releases_nothing(tmp_path) -> None:
    released, on_disk, sent, errors = asyncio.run(_deposed_role(tmp_path))
    assert released == ["ack 4/1"], "an fsync of the ended role released its ACK"
    assert on_disk == [make_zxid(3, 1), make_zxid(4, 1)], "the ended role appended after it ended"
    assert sent == [b"proposal 3/1"]
    assert errors == [], "the writer never saw an append out of order"
