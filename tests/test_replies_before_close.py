"""Replies written before the server closes a connection reach the client, side by side with ZooKeeper 3.8.

The client pipelines large reads and a closeSession and, before reading any reply, sends one more request
(a ping): it arrives after the server has decided to close. A socket closed with unread input makes the kernel
answer with RST and drop whatever it has not yet sent, so a server that simply closed lost the replies the
client had not yet received; ZooKeeper delivers all of them, then EOF.
"""

from __future__ import annotations

import socket
import time

import pytest
from kazoo.client import KazooClient

from zoopark.core.jute.constants import CreateMode, OpCode
from zoopark.core.jute.io import Reader
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateRequest, GetDataRequest, ReplyHeader

from procs import ZooKeeperProcess, ZooParkProcess, close_clients
from rawclient import RawClient, request_frame
from references import needs

pytestmark = [pytest.mark.zk, needs("zookeeper")]

BIG = 900_000  # under jute.maxbuffer (0xfffff): a reply the kernel buffers do not take many of at once
READS = 6


def _replies_then_end(raw: RawClient) -> tuple[list[tuple[int, int, int]], str]:
    """(xid, err, body length) of each reply until the stream ends, and how it ended."""
    seen = []
    try:
        while True:
            frame = raw.read_frame()
            hdr = ReplyHeader.read(Reader(frame))
            seen.append((hdr.xid, hdr.err, len(frame) - 16))
    except ConnectionResetError:
        return seen, "reset"
    except ConnectionError:
        return seen, "EOF"


def _close_session_behind_big_reads(hosts: str, port: int) -> tuple[list[tuple[int, int, int]], str]:
    watcher = KazooClient(hosts=hosts)
    watcher.start(timeout=15)
    raw = RawClient(port, timeout=10)
    try:
        watcher.create("/big", b"x" * BIG)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a client slower than the server
        raw.connect()
        raw.call(OpCode.CREATE, CreateRequest("/mine", b"", OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL))
        raw.sock.sendall(b"".join(request_frame(2 + i, OpCode.GET_DATA, GetDataRequest("/big", False))
                                  for i in range(READS)) + request_frame(2 + READS, OpCode.CLOSE_SESSION))
        # The session's ephemeral is gone once closeSession is applied: the server has closed (or is closing)
        # the connection when the next request comes.
        deadline = time.monotonic() + 10
        while watcher.exists("/mine") is not None:
            assert time.monotonic() < deadline, "closeSession was not applied"
            time.sleep(0.01)
        raw.sock.sendall(request_frame(3 + READS, OpCode.PING))
        return _replies_then_end(raw)
    finally:
        raw.close()
        close_clients([watcher])


def test_replies_before_a_close_reach_a_client_that_sent_more_as_on_zookeeper() -> None:
    seen = []
    for proc in (ZooKeeperProcess, ZooParkProcess):
        with proc() as srv:
            seen.append(_close_session_behind_big_reads(srv.hosts, srv.port))
    assert seen[1] == seen[0]
    # each read: the data (a length and BIG bytes) and its Stat (68 bytes); closeSession: no body
    assert seen[0] == ([(2 + i, 0, 4 + BIG + 68) for i in range(READS)] + [(2 + READS, 0, 0)], "EOF")
