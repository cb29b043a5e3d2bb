"""The quorum port's wire format (ZooKeeper 3.8's Leader / Learner / LearnerHandler).

The stream carries QuorumPacket records back to back, with no length prefix:
    int type, long zxid, buffer data, vector<Id> authinfo
except right after a SNAP packet, where the leader writes its database raw (the sessions and the tree as a
snapshot holds them, without file header or seals) and the string "BenWasHere", then packets again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, final

from .io import JuteError, Writer
from .records import Id

MAX_PACKET_BYTES = 64 * 1024 * 1024  # jute.maxbuffer bounds a txn; a packet's data is one txn or less
SNAP_SIGNATURE = "BenWasHere"
PROTOCOL_VERSION = 0x10000


class PacketType(IntEnum):
    REQUEST = 1
    PROPOSAL = 2
    ACK = 3
    COMMIT = 4
    PING = 5
    REVALIDATE = 6
    SYNC = 7
    INFORM = 8
    COMMITANDACTIVATE = 9
    NEWLEADER = 10
    FOLLOWERINFO = 11
    UPTODATE = 12
    DIFF = 13
    TRUNC = 14
    SNAP = 15
    OBSERVERINFO = 16
    LEADERINFO = 17
    ACKEPOCH = 18
    INFORMANDACTIVATE = 19


def make_zxid(epoch: int, counter: int) -> int:
    return (epoch << 32) | (counter & 0xFFFFFFFF)


def epoch_of(zxid: int) -> int:
    return zxid >> 32


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class QuorumPacket:
    # Written out (see core/values.py): a packet is made per proposal, ACK and COMMIT, and a dataclass's own
    # __init__ stays interpreted under mypyc.
    type: Final[int]
    zxid: Final[int]
    data: Final[bytes | None]
    authinfo: Final[tuple[Id, ...] | None]

    def __init__(self, type: int, zxid: int, data: bytes | None = None,
                 authinfo: tuple[Id, ...] | None = None) -> None:
        self.type = type
        self.zxid = zxid
        self.data = data
        self.authinfo = authinfo

    def encode(self) -> bytes:
        w = Writer()
        w.int(self.type)
        w.long(self.zxid)
        w.buffer(self.data)
        w.vector(self.authinfo, lambda w2, i: i.write(w2))
        return w.getvalue()

    def name(self) -> str:
        try:
            return PacketType(self.type).name
        except ValueError:
            return f"type{self.type}"


@dataclass(frozen=True, slots=True)
class LearnerInfo:
    server_id: int
    protocol_version: int = PROTOCOL_VERSION
    config_version: int = 0

    def encode(self) -> bytes:
        return struct.pack(">qiq", self.server_id, self.protocol_version, self.config_version)

    @staticmethod
    def decode(data: bytes) -> LearnerInfo:
        if len(data) >= 20:
            return LearnerInfo(*struct.unpack_from(">qiq", data, 0))
        if len(data) >= 12:
            sid, pv = struct.unpack_from(">qi", data, 0)
            return LearnerInfo(sid, pv)
        if len(data) >= 8:
            return LearnerInfo(struct.unpack_from(">q", data, 0)[0], 0)
        raise JuteError(f"LearnerInfo of {len(data)} bytes")


class QuorumWireError(ValueError):
    pass


def _packet_at(buf: bytes | bytearray | memoryview, pos: int) -> tuple[QuorumPacket, int] | None:
    """The packet starting at `pos` and where it ends, or None while it is incomplete."""
    end = len(buf)
    if end - pos < 16:
        return None
    typ, zxid, dlen = struct.unpack_from(">iqi", buf, pos)
    p = pos + 16
    data = None
    if dlen >= 0:
        if dlen > MAX_PACKET_BYTES:
            raise QuorumWireError(f"{PacketType(typ).name if typ in PacketType._value2member_map_ else typ} "
                                  f"packet of {dlen} bytes exceeds the limit")
        if end - p < dlen:
            return None
        data = bytes(buf[p : p + dlen])
        p += dlen
    if end - p < 4:
        return None
    (count,) = struct.unpack_from(">i", buf, p)
    p += 4
    auth: tuple[Id, ...] | None = None
    if count >= 0:
        if count > 1024:
            raise QuorumWireError(f"authinfo of {count} ids")
        ids = []
        for _ in range(count):
            got = _string_pair(buf, p)
            if got is None:
                return None
            ident, p = got
            ids.append(ident)
        auth = tuple(ids)
    return QuorumPacket(typ, zxid, data, auth), p


def _string_pair(buf: bytes | bytearray | memoryview, pos: int) -> tuple[Id, int] | None:
    out = []
    for _ in range(2):
        if len(buf) - pos < 4:
            return None
        (n,) = struct.unpack_from(">i", buf, pos)
        pos += 4
        if n < 0:
            out.append("")
            continue
        if n > MAX_PACKET_BYTES:
            raise QuorumWireError(f"string of {n} bytes in authinfo")
        if len(buf) - pos < n:
            return None
        out.append(bytes(buf[pos : pos + n]).decode("utf-8", "replace"))
        pos += n
    return Id(out[0], out[1]), pos


class SnapScanner:
    """Finds where the raw database after a SNAP ends, across reads: sessions, ACL cache, nodes up to the
    path "/", then the signature string. Resumable: `feed` returns the end offset once all of it is there."""

    def __init__(self) -> None:
        self.pos = 0
        self.stage = "sessions"
        self.left = 0
        self.body_end = 0

    def _int(self, buf: bytes | bytearray | memoryview, p: int) -> int | None:
        return struct.unpack_from(">i", buf, p)[0] if len(buf) - p >= 4 else None

    def feed(self, buf: bytes | bytearray) -> int | None:
        for _ in range(len(buf) + 8):  # bounded: every pass moves forward or returns
            p = self.pos
            if self.stage == "sessions":
                n = self._int(buf, p)
                if n is None:
                    return None
                if n < 0:
                    raise QuorumWireError(f"snapshot with {n} sessions")
                if len(buf) - p - 4 < 12 * n:
                    return None
                self.pos = p + 4 + 12 * n
                self.stage, self.left = "acl_count", 0
            elif self.stage == "acl_count":
                n = self._int(buf, p)
                if n is None:
                    return None
                self.pos, self.stage, self.left = p + 4, "acl", n
            elif self.stage == "acl":
                if self.left <= 0:
                    self.stage = "path"
                    continue
                if len(buf) - p < 12:
                    return None
                (count,) = struct.unpack_from(">i", buf, p + 8)
                q = p + 12
                for _ in range(max(count, 0)):
                    if len(buf) - q < 4:
                        return None
                    q += 4  # perms
                    got = _string_pair(buf, q)
                    if got is None:
                        return None
                    q = got[1]
                self.pos, self.left = q, self.left - 1
            elif self.stage == "path":
                n = self._int(buf, p)
                if n is None or len(buf) - p - 4 < max(n, 0):
                    return None
                path = bytes(buf[p + 4 : p + 4 + max(n, 0)])
                if path == b"/":
                    self.pos, self.stage = p + 4 + n, "signature"
                    continue
                q = p + 4 + max(n, 0)
                d = self._int(buf, q)
                if d is None or len(buf) - q - 4 < max(d, 0) + 68:
                    return None
                self.pos = q + 4 + max(d, 0) + 68  # long acl + StatPersisted (60 bytes)
            elif self.stage == "signature":
                n = self._int(buf, p)
                if n is None or len(buf) - p - 4 < max(n, 0):
                    return None
                sig = bytes(buf[p + 4 : p + 4 + max(n, 0)]).decode("utf-8", "replace")
                if sig != SNAP_SIGNATURE:
                    raise QuorumWireError(f"snapshot from the leader ends with {sig!r}, not the signature")
                self.body_end = p
                return p + 4 + n
        raise QuorumWireError("snapshot scan made no progress")


class QuorumStreamDecoder:
    """Bytes in, packets out; after a SNAP packet, one `("snapshot", raw database)` item (the signature checked
    and left out), then packets again."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self._snap: SnapScanner | None = None

    def feed(self, data: bytes) -> list[QuorumPacket | tuple[str, bytes]]:
        self.buf += data
        out: list[QuorumPacket | tuple[str, bytes]] = []
        for _ in range(1_000_000):
            if self._snap is not None:
                end = self._snap.feed(self.buf)
                if end is None:
                    return out
                out.append(("snapshot", bytes(self.buf[: self._snap.body_end])))  # without the signature
                del self.buf[:end]
                self._snap = None
                continue
            got = _packet_at(self.buf, 0)
            if got is None:
                return out
            packet, end = got
            del self.buf[:end]
            out.append(packet)
            if packet.type == PacketType.SNAP:
                self._snap = SnapScanner()
        return out


def read_packet(data: bytes) -> QuorumPacket:
    """One whole packet (tests and tools)."""
    got = _packet_at(data, 0)
    if got is None:
        raise QuorumWireError("incomplete packet")
    return got[0]


__all__ = ["QuorumPacket", "PacketType", "LearnerInfo", "QuorumStreamDecoder"]
