"""A blocking raw-protocol client for tests that need bytes kazoo will not send."""

from __future__ import annotations

import socket
import struct

from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent


def request_frame(xid: int, op: int, record: object | None = None) -> bytes:
    """One request as it goes on the wire: its length, then xid, op and the record."""
    w = Writer()
    w.int(xid)
    w.int(op)
    if record is not None:
        record.write(w)  # type: ignore[attr-defined]
    body = w.getvalue()
    return struct.pack(">i", len(body)) + body


class RawClient:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.xid = 0
        self.session_id = 0
        self.passwd = b""
        self.events: list[WatcherEvent] = []

    def connect(self, timeout_ms: int = 10_000, session_id: int = 0, passwd: bytes = bytes(16)) -> ConnectResponse:
        w = Writer()
        ConnectRequest(0, 0, timeout_ms, session_id, passwd).write(w)
        w.bool(False)
        self.send_frame(w.getvalue())
        resp = ConnectResponse.read(Reader(self.read_frame()))
        self.session_id, self.passwd = resp.session_id, resp.passwd or b""
        return resp

    def send_frame(self, body: bytes) -> None:
        self.sock.sendall(struct.pack(">i", len(body)) + body)

    def read_frame(self) -> bytes:
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack_from(">i", self.buf)[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        (n,) = struct.unpack_from(">i", self.buf)
        frame, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
        return frame

    def call(self, op: int, record: object | None = None, xid: int | None = None) -> tuple[ReplyHeader, bytes]:
        """Send one request; return its reply header and body (watch events met on the way are kept)."""
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.sock.sendall(request_frame(xid, op, record))
        while True:
            frame = self.read_frame()
            r = Reader(frame)
            hdr = ReplyHeader.read(r)
            if hdr.xid == -1:
                self.events.append(WatcherEvent.read(r))
                continue
            assert hdr.xid == xid, f"reply to xid {hdr.xid}, expected {xid}"
            return hdr, frame[16:]

    def closed_by_server(self) -> bool:
        """True once the server has closed this connection (reads EOF within the socket timeout)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (TimeoutError, socket.timeout):
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()
