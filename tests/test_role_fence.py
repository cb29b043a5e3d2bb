"""The role fence in-process (runtime/batching.py): a TurnBatch is bound to its role's log generation, and
once the role has ended nothing of it reaches the log, a peer, or the callbacks an fsync releases (ACKs,
commits), whatever was still queued or in flight."""

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


def _read_only_handshake(c) -> bool:
    """A read-only ConnectRequest (a replica serving read-only answers it itself); True if answered."""
    from zoopark.core.jute.io import Writer
    from zoopark.core.jute.records import ConnectRequest

    w = Writer()
    ConnectRequest(0, 0, 10_000, 0, bytes(16)).write(w)
    w.bool(True)
    try:
        c.send_frame(w.getvalue())
        c.read_frame()
        return True
    except (ConnectionError, OSError):
        return False


async def _served_after_the_role_ended(tmp_path) -> tuple[bool, bool, bool]:
    """A replica server whose role has ended (its fence is down) before its port closed: a client connected
    before and one that connects after get no answer from the stale core."""
    from zoopark.config import parse_config
    from zoopark.core.tree.datatree import DataTree
    from zoopark.runtime.server import Server

    from rawclient import RawClient

    port = free_port()
    (tmp_path / "myid").write_text("2\n")
    cfg = parse_config(f"dataDir={tmp_path}\nclientPort={port}\ntickTime=500\ninitLimit=10\nsyncLimit=5\n"
                       "server.1=127.0.0.1:1:2\nserver.2=127.0.0.1:3:4\nserver.3=127.0.0.1:5:6\n")
    live = [True]
    server = Server.replica(cfg, DataTree(), {}, "read-only")
    server.core.become_read_only()
    server.fence = lambda: live[0]
    await server.open_port()
    try:
        served_while_live = await asyncio.to_thread(_read_only_handshake, RawClient(port))
        early = RawClient(port)
        await asyncio.sleep(0.1)  # accepted, and handed to the server, while the role lives
        live[0] = False  # the role ends; its port is not closed yet
        late = RawClient(port)
        return (served_while_live, await asyncio.to_thread(_read_only_handshake, early),
                await asyncio.to_thread(_read_only_handshake, late))
    finally:
        await server.close_port()


def test_a_replica_whose_role_ended_answers_no_client(tmp_path) -> None:
    served_while_live, early, late = asyncio.run(_served_after_the_role_ended(tmp_path))
    assert served_while_live, "the replica serves while its role lives"
    assert not early, "a connected client got an answer from an ended role's core"
    assert not late, "a client that connected after the role ended was served"
