"""A bare server: the least any server must do for a serial request on this machine, as a floor for the @1 rows.

    python -m bench.bare PORT DIR

One thread, blocking sockets, one client at a time. It answers the connect handshake, then each request with a
reply header (its xid, a zxid, no error) and an empty Stat; a setData is first written and synced into a txn
log of its own (the request's bytes, in one pwritev2(RWF_DSYNC) into a file preallocated as zoopark's is). No
tree, no session, no jute beyond the xid: what is left of a request's latency is the loopback round trip, the
wake-ups on both sides and, for a write, the disk. `bench.run` measures its `set@1` and `get@1` right after
each run of those rows, so a row's gap to the disk floor splits into the machine's part (this server's gap)
and the server's own (the rest).
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from pathlib import Path

from .proto import REPLY

_LEN = struct.Struct(">i")
_STAT = bytes(68)
_SET_DATA = 5
_PREALLOC = 64 * 1024 * 1024


def _connect_reply() -> bytes:
    body = struct.pack(">iiqi", 0, 30_000, 1, 16) + bytes(16) + b"\0"  # version, timeout, session, passwd, ro
    return _LEN.pack(len(body)) + body


def _read_frame(conn: socket.socket, buf: bytearray) -> bytes | None:
    """One whole frame's body (after its length), or None at the client's end."""
    while len(buf) < 4 or len(buf) < 4 + _LEN.unpack_from(buf)[0]:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return None
        buf += chunk
    n = _LEN.unpack_from(buf)[0]
    body = bytes(buf[4 : 4 + n])
    del buf[: 4 + n]
    return body


def serve_one(conn: socket.socket, fd: int, pos: int) -> int:
    """Answer one client until it closes; the log position after its writes."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    if _read_frame(conn, buf) is None:
        return pos
    conn.sendall(_connect_reply())
    zxid = 0
    for _ in range(1 << 40):
        body = _read_frame(conn, buf)
        if body is None:
            return pos
        (xid, op) = struct.unpack_from(">ii", body)
        if op == _SET_DATA:
            os.pwritev(fd, (body,), pos, os.RWF_DSYNC)
            pos += len(body)
            zxid += 1
            out = _STAT
        else:  # a read: a null buffer and the Stat
            out = b"\xff\xff\xff\xff" + _STAT
        conn.sendall(_LEN.pack(REPLY.size + len(out)) + REPLY.pack(xid, zxid, 0) + out)
    return pos


def main() -> None:
    port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
    fd = os.open(data_dir / "bare.log", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.posix_fallocate(fd, 0, _PREALLOC)
    os.fsync(fd)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print("ready", flush=True)
    pos = 0
    for _ in range(1 << 20):
        conn, _ = srv.accept()
        with conn:
            pos = serve_one(conn, fd, pos)


if __name__ == "__main__":
    main()
