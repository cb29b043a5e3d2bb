"""Capture the frames of a scripted session with a real server, through a recording TCP proxy.

    python tests/capture.py     # regenerate tests/data/zk38/frames.jsonl from Apache ZooKeeper 3.8

The script covers every client opcode of ZooKeeper 3.8 (and an unknown one), with hits, misses and errors.
Each line of the output is {"case", "dir" ("c2s" | "s2c"), "op" (the request's opcode), "hex"} for one frame
without its length prefix.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
from pathlib import Path

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Writer
from zoopark.core.jute.records import (
    ACL,
    OPEN_ACL_UNSAFE,
    AddWatchRequest,
    AuthPacket,
    CheckVersionRequest,
    CheckWatchesRequest,
    CreateRequest,
    CreateTTLRequest,
    DeleteRequest,
    ExistsRequest,
    GetACLRequest,
    GetAllChildrenNumberRequest,
    GetChildren2Request,
    GetChildrenRequest,
    GetDataRequest,
    GetEphemeralsRequest,
    GetSASLRequest,
    Id,
    MultiHeader,
    RemoveWatchesRequest,
    SetACLRequest,
    SetDataRequest,
    SetWatches,
    SetWatches2,
    SyncRequest,
)
from zoopark.core.tree.acl import digest_of

GOLDEN = Path(__file__).resolve().parent / "data" / "zk38" / "frames.jsonl"
OPEN = list(OPEN_ACL_UNSAFE)


class Recorder:
    """A one-connection proxy: client <-> us <-> server, splitting both directions into frames."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.frames: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.server_port))
        t = threading.Thread(target=self._pump, args=(server, client, "s2c"), daemon=True)
        t.start()
        self._pump(client, server, "c2s")
        t.join(5)

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        buf = b""
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            dst.sendall(data)
            buf += data
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from(">i", buf)[0]:
                n = struct.unpack_from(">i", buf)[0]
                with self.lock:
                    self.frames.append((direction, buf[4 : 4 + n]))
                buf = buf[4 + n :]


def _multi(ops) -> bytes:
    w = Writer()
    for op, rec in ops:
        MultiHeader(op, False, -1).write(w)
        rec.write(w)
    MultiHeader(-1, True, -1).write(w)
    return w.getvalue()


class _Bytes:
    def __init__(self, b: bytes) -> None:
        self.b = b

    def write(self, w: Writer) -> None:
        w.raw(self.b)


def script() -> list[tuple[str, int, object | None, int | None]]:
    """(case, opcode, record, xid or None for the next one) in order."""
    digest_acl = [ACL(31, Id("digest", digest_of("u:p")))]
    return [
        ("create", OpCode.CREATE, CreateRequest("/a", b"hello", OPEN, 0), None),
        ("create-exists", OpCode.CREATE, CreateRequest("/a", b"", OPEN, 0), None),
        ("create2-seq", OpCode.CREATE2, CreateRequest("/a/s-", b"", OPEN, 2), None),
        ("create2-ephemeral", OpCode.CREATE2, CreateRequest("/a/e", b"x", OPEN, 1), None),
        ("create-container", OpCode.CREATE_CONTAINER, CreateRequest("/box", b"", OPEN, 4), None),
        ("create-ttl", OpCode.CREATE_TTL, CreateTTLRequest("/ttl", b"t", OPEN, 5, 60000), None),
        ("exists-hit-watch", OpCode.EXISTS, ExistsRequest("/a", True), None),
        ("exists-miss-watch", OpCode.EXISTS, ExistsRequest("/nope", True), None),
        ("getdata-watch", OpCode.GET_DATA, GetDataRequest("/a", True), None),
        ("setdata", OpCode.SET_DATA, SetDataRequest("/a", b"v2", -1), None),
        ("setdata-badversion", OpCode.SET_DATA, SetDataRequest("/a", b"v3", 7), None),
        ("getchildren", OpCode.GET_CHILDREN, GetChildrenRequest("/a", True), None),
        ("getchildren2", OpCode.GET_CHILDREN2, GetChildren2Request("/a", False), None),
        ("auth-digest", OpCode.AUTH, AuthPacket(0, "digest", b"u:p"), -4),
        ("create-digest-acl", OpCode.CREATE, CreateRequest("/sec", b"s", digest_acl, 0), None),
        ("getacl", OpCode.GET_ACL, GetACLRequest("/sec"), None),
        ("setacl", OpCode.SET_ACL, SetACLRequest("/sec", OPEN, 0), None),
        ("sync", OpCode.SYNC, SyncRequest("/a"), None),
        ("multi-ok", OpCode.MULTI, _Bytes(_multi([
            (OpCode.CREATE, CreateRequest("/m", b"", OPEN, 0)),
            (OpCode.SET_DATA, SetDataRequest("/m", b"1", -1)),
            (OpCode.CHECK, CheckVersionRequest("/m", 1)),
            (OpCode.DELETE, DeleteRequest("/m", -1))])), None),
        ("multi-fail", OpCode.MULTI, _Bytes(_multi([
            (OpCode.CREATE, CreateRequest("/m2", b"", OPEN, 0)),
            (OpCode.CREATE, CreateRequest("/a", b"", OPEN, 0))])), None),
        ("multiread", OpCode.MULTI_READ, _Bytes(_multi([
            (OpCode.GET_DATA, GetDataRequest("/a", False)),
            (OpCode.GET_CHILDREN, GetChildrenRequest("/a", False)),
            (OpCode.GET_DATA, GetDataRequest("/nope", False))])), None),
        ("addwatch-recursive", OpCode.ADD_WATCH, AddWatchRequest("/a", 1), None),
        ("getephemerals", OpCode.GET_EPHEMERALS, GetEphemeralsRequest("/"), None),
        ("allchildren", OpCode.GET_ALL_CHILDREN_NUMBER, GetAllChildrenNumberRequest("/"), None),
        ("whoami", OpCode.WHO_AM_I, None, None),
        ("checkwatches", OpCode.CHECK_WATCHES, CheckWatchesRequest("/a", 1), None),
        ("removewatches", OpCode.REMOVE_WATCHES, RemoveWatchesRequest("/a", 1), None),
        ("removewatches-none", OpCode.REMOVE_WATCHES, RemoveWatchesRequest("/zzz", 2), None),
        ("setwatches", OpCode.SET_WATCHES, SetWatches(0, ["/a"], ["/nope2"], ["/a"]), -8),
        ("setwatches2", OpCode.SET_WATCHES2, SetWatches2(0, [], [], [], ["/a"], []), -8),
        ("sasl", OpCode.SASL, GetSASLRequest(b"tok"), None),
        ("reconfig-disabled", OpCode.RECONFIG, _Bytes(b"\xff\xff\xff\xff" * 3 + b"\xff" * 8), None),
        ("delete-notempty", OpCode.DELETE, DeleteRequest("/a", -1), None),
        ("delete", OpCode.DELETE, DeleteRequest("/a/e", -1), None),
        ("ping", OpCode.PING, None, -2),
        ("close", OpCode.CLOSE_SESSION, None, None),
    ]


def run_script(server_port: int) -> list[dict]:
    from rawclient import RawClient

    rec = Recorder(server_port)
    c = RawClient(rec.port)
    c.connect(timeout_ms=30_000)
    cases: list[tuple[int, str, int]] = []
    for case, op, record, xid in script():
        if xid is None:
            c.xid += 1
            xid = c.xid
        cases.append((xid, case, op))
        w = Writer()
        w.int(xid)
        w.int(op)
        if record is not None:
            record.write(w)  # type: ignore[attr-defined]
        c.send_frame(w.getvalue())
        while True:  # wait for this request's reply, so frames interleave in a known order
            frame = c.read_frame()
            if struct.unpack_from(">i", frame)[0] == xid:
                break
    c.closed_by_server()
    c.close()
    rec.thread.join(5)
    return label(rec.frames, cases)


def label(frames: list[tuple[str, bytes]], cases: list[tuple[int, str, int]]) -> list[dict]:
    """Name each frame by the request it belongs to. The proxy's two directions race each other, so the
    output lists every request (in order), then every server frame (in order), each labelled by xid."""
    c2s = [d for direction, d in frames if direction == "c2s"]
    s2c = [d for direction, d in frames if direction == "s2c"]
    by_xid = {xid: (case, op) for xid, case, op in cases}
    out = [{"case": "connect", "dir": "c2s", "op": "connect", "hex": c2s[0].hex()}]
    for (_, case, op), data in zip(cases, c2s[1:], strict=True):
        out.append({"case": case, "dir": "c2s", "op": op, "hex": data.hex()})
    out.append({"case": "connect", "dir": "s2c", "op": "connect", "hex": s2c[0].hex()})
    for data in s2c[1:]:
        xid = struct.unpack_from(">i", data)[0]
        case, op = ("notification", "notification") if xid == -1 else by_xid[xid]
        out.append({"case": case, "dir": "s2c", "op": op, "hex": data.hex()})
    return out


def main() -> int:
    from procs import ZooKeeperProcess

    with ZooKeeperProcess(extra={"extendedTypesEnabled": "true"}) as zk:
        frames = run_script(zk.port)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text("".join(json.dumps(f) + "\n" for f in frames))
    print(f"wrote {len(frames)} frames to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
