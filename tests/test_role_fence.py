"""The role fence in-process: a TurnBatch (runtime/batching.py) is bound to its role's log generation, and
once the role has ended nothing of it reaches the log, a peer, or the callbacks an fsync releases (ACKs,
commits), whatever was still queued or in flight; a role's client port (runtime/roleport.py) hands no
connection of an ended role to the member machine."""

from __future__ import annotations

import asyncio

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.quorum import make_zxid
from zoopark.core.jute.records import CreateSessionTxn, TxnHeader
from zoopark.core.jute.txns import encode_txn
from zoopark.persist import txnlog
from zoopark.persist.writer import LogWriter
from zoopark.runtime.batching import TurnBatch

from procs import free_port


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


class _Conn:
    def __init__(self, conn_id: int) -> None:
        self.id, self.remote_ip, self.remote_port, self.x509_subject = conn_id, "127.0.0.1", 40000, None
        self.closed: list[str] = []

    def close(self, reason: str) -> None:
        self.closed.append(reason)


def test_a_client_port_of_an_ended_role_hands_no_connection_to_the_machine(tmp_path) -> None:
    """runtime/roleport.py: a connection that a role's port accepted after the role ended (the machine has
    moved to a new generation, the port is not closed yet) is closed and never reaches the machine."""
    import itertools

    from zoopark.config import parse_config
    from zoopark.runtime.roleport import RolePort

    (tmp_path / "myid").write_text("2\n")
    cfg = parse_config(f"dataDir={tmp_path}\nclientPort={free_port()}\ntickTime=500\ninitLimit=10\nsyncLimit=5\n"
                       "server.1=127.0.0.1:1:2\nserver.2=127.0.0.1:3:4\nserver.3=127.0.0.1:5:6\n")

    class Machine:
        gen = 7
        core = None

    class Member:
        machine, conns, conn_ids, fed = Machine(), {}, itertools.count(1), []

        def __init__(self) -> None:
            self.cfg = cfg

        def feed(self, event) -> None:
            self.fed.append(event)

    m = Member()
    stale, live = RolePort(m, 6), RolePort(m, 7)  # type: ignore[arg-type]
    old, new = _Conn(1), _Conn(2)
    stale.connected(old)  # type: ignore[arg-type]
    live.connected(new)  # type: ignore[arg-type]
    assert old.closed and 1 not in m.conns
    assert not new.closed and m.conns == {2: new}
    assert [type(e).__name__ for e in m.fed] == ["ClientConnect"] and m.fed[0].conn == 2
