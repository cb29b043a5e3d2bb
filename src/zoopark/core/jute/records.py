"""The records of ZooKeeper 3.8's zookeeper.jute: data, client protocol and transactions.

GENERATED from core/jute/schema.py by `python -m zoopark.tools.jutegen`: do not edit by hand (a test
compares this file with what the schema generates). Field order and types are the wire format; names
follow zookeeper.jute in snake_case.

Each record is a final slots dataclass whose fields are Final (mypy rejects an assignment; compiled,
the attributes are read-only) with its `__init__` written out: a dataclass-made `__init__` would stay
interpreted under mypyc and, for a frozen dataclass, store each field through object.__setattr__.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NoReturn, final

from librt.strings import read_i32_be, read_i64_be

from .io import INT, LONG, JuteError, Reader, Writer

# Fields are read with librt's big-endian readers from the frame's bytes (Reader.buf is bytes): compiled, each
# is a bounds check and a load, where a struct's unpack_from would box the field and the tuple holding it.
# Final: compiled, module-level names that are not Final are looked up in the module's dict at every use.
_INT_PACK: Final = INT.pack
_LONG_PACK: Final = LONG.pack
_NULL: Final = b"\xff\xff\xff\xff"


def _short(n: int, pos: int, end: int) -> NoReturn:
    raise JuteError(f"record truncated: need {n} bytes at offset {pos}, frame has {end}")


def _bad_length(n: int, pos: int) -> NoReturn:
    raise JuteError(f"unreasonable length {n} at offset {pos}")


def _not_utf8(pos: int) -> NoReturn:
    raise JuteError(f"string at offset {pos} is not UTF-8")


# Nearly every request carries one of a handful of ACLs: decode each distinct byte string once and hand out
# the same tuple again, so that later stages can recognise it by identity. (ACL vectors decode to tuples.)
_ACL_VECTORS: dict[bytes, tuple[ACL, ...]] = {}
_ACL_VECTORS_MAX = 4096
# The vector read last, as its bytes and its tuple: runs of txns and requests repeat one, and comparing its
# bytes in place (no slice, no hash) finds it. Any bytes kept here are a whole vector's encoding, which says
# its own length, so bytes that start with them hold that same vector.
_LAST_RAW: list[bytes] = [b"\x00\x00\x00\x00"]  # the empty vector: ()
_LAST_ACLS: list[tuple[ACL, ...]] = [()]


def _read_acl_vector(r: Reader) -> tuple[ACL, ...] | None:
    start = r.pos
    buf = r.buf
    last = _LAST_RAW[0]
    if start + len(last) <= r.end and buf.startswith(last, start):
        r.pos = start + len(last)
        return _LAST_ACLS[0]
    n = r.int()
    if n == -1:
        return None
    if n < 0:
        return ()  # as Reader.vector: an empty vector
    pos, end = r.pos, r.end
    for _ in range(n):  # the vector's extent: perms, then the scheme's and the id's lengths
        pos += 4
        for _ in range(2):
            if pos + 4 > end:
                pos = end + 1
                break
            pos += 4 + max(read_i32_be(buf, pos), 0)
        if pos > end:
            break
    if pos <= end:
        raw = buf[start:pos]
        acls = _ACL_VECTORS.get(raw)
        if acls is not None:
            r.pos = pos
            _LAST_RAW[0], _LAST_ACLS[0] = raw, acls
            return acls
    r.pos = start + 4
    if n > r.remaining():
        raise JuteError(f"vector of {n} ACLs at offset {start} exceeds the frame")
    acls = tuple([ACL.read(r) for _ in range(n)])
    if pos <= end and len(_ACL_VECTORS) < _ACL_VECTORS_MAX:
        raw = buf[start:r.pos]
        _ACL_VECTORS[raw] = acls
        _LAST_RAW[0], _LAST_ACLS[0] = raw, acls
    return acls

_S_ii: Final = struct.Struct(">ii")
_S_iiq: Final = struct.Struct(">iiq")
_S_iq: Final = struct.Struct(">iq")
_S_iqi: Final = struct.Struct(">iqi")
_S_iqiq: Final = struct.Struct(">iqiq")
_S_qiq: Final = struct.Struct(">qiq")
_S_qiqqi: Final = struct.Struct(">qiqqi")
_S_qqqqiiiqiiq: Final = struct.Struct(">qqqqiiiqiiq")
_S_qqqqiiiqq: Final = struct.Struct(">qqqqiiiqq")

# ---- org.apache.zookeeper.data -----------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Id:
    scheme: Final[str]
    id: Final[str]

    def __init__(self, scheme: str, id: str) -> None:
        self.scheme = scheme
        self.id = id

    @staticmethod
    def read(r: Reader) -> Id:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v1 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return Id(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.scheme
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        s = self.id
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ACL:
    perms: Final[int]
    id: Final[Id]

    def __init__(self, perms: int, id: Id) -> None:
        self.perms = perms
        self.id = id

    @staticmethod
    def read(r: Reader) -> ACL:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: Id
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        v1 = Id.read(r)
        return ACL(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.perms))
        self.id.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Stat:
    czxid: Final[int]
    mzxid: Final[int]
    ctime: Final[int]
    mtime: Final[int]
    version: Final[int]
    cversion: Final[int]
    aversion: Final[int]
    ephemeral_owner: Final[int]
    data_length: Final[int]
    num_children: Final[int]
    pzxid: Final[int]

    def __init__(self, czxid: int, mzxid: int, ctime: int, mtime: int, version: int, cversion: int, aversion: int, ephemeral_owner: int, data_length: int, num_children: int, pzxid: int) -> None:
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeral_owner = ephemeral_owner
        self.data_length = data_length
        self.num_children = num_children
        self.pzxid = pzxid

    @staticmethod
    def read(r: Reader) -> Stat:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        v3: int
        v4: int
        v5: int
        v6: int
        v7: int
        v8: int
        v9: int
        v10: int
        if pos + 68 > end:
            _short(68, pos, end)
        v0 = read_i64_be(buf, pos)
        v1 = read_i64_be(buf, pos + 8)
        v2 = read_i64_be(buf, pos + 16)
        v3 = read_i64_be(buf, pos + 24)
        v4 = read_i32_be(buf, pos + 32)
        v5 = read_i32_be(buf, pos + 36)
        v6 = read_i32_be(buf, pos + 40)
        v7 = read_i64_be(buf, pos + 44)
        v8 = read_i32_be(buf, pos + 52)
        v9 = read_i32_be(buf, pos + 56)
        v10 = read_i64_be(buf, pos + 60)
        pos += 68
        r.pos = pos
        return Stat(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_qqqqiiiqiiq.pack(self.czxid, self.mzxid, self.ctime, self.mtime, self.version, self.cversion, self.aversion, self.ephemeral_owner, self.data_length, self.num_children, self.pzxid))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class StatPersisted:
    czxid: Final[int]
    mzxid: Final[int]
    ctime: Final[int]
    mtime: Final[int]
    version: Final[int]
    cversion: Final[int]
    aversion: Final[int]
    ephemeral_owner: Final[int]
    pzxid: Final[int]

    def __init__(self, czxid: int, mzxid: int, ctime: int, mtime: int, version: int, cversion: int, aversion: int, ephemeral_owner: int, pzxid: int) -> None:
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeral_owner = ephemeral_owner
        self.pzxid = pzxid

    @staticmethod
    def read(r: Reader) -> StatPersisted:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        v3: int
        v4: int
        v5: int
        v6: int
        v7: int
        v8: int
        if pos + 60 > end:
            _short(60, pos, end)
        v0 = read_i64_be(buf, pos)
        v1 = read_i64_be(buf, pos + 8)
        v2 = read_i64_be(buf, pos + 16)
        v3 = read_i64_be(buf, pos + 24)
        v4 = read_i32_be(buf, pos + 32)
        v5 = read_i32_be(buf, pos + 36)
        v6 = read_i32_be(buf, pos + 40)
        v7 = read_i64_be(buf, pos + 44)
        v8 = read_i64_be(buf, pos + 52)
        pos += 60
        r.pos = pos
        return StatPersisted(v0, v1, v2, v3, v4, v5, v6, v7, v8)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_qqqqiiiqq.pack(self.czxid, self.mzxid, self.ctime, self.mtime, self.version, self.cversion, self.aversion, self.ephemeral_owner, self.pzxid))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientInfo:
    auth_scheme: Final[str]
    user: Final[str]

    def __init__(self, auth_scheme: str, user: str) -> None:
        self.auth_scheme = auth_scheme
        self.user = user

    @staticmethod
    def read(r: Reader) -> ClientInfo:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v1 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return ClientInfo(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.auth_scheme
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        s = self.user
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


# ---- org.apache.zookeeper.proto ----------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ConnectRequest:
    protocol_version: Final[int]
    last_zxid_seen: Final[int]
    time_out: Final[int]
    session_id: Final[int]
    passwd: Final[bytes | None]

    def __init__(self, protocol_version: int, last_zxid_seen: int, time_out: int, session_id: int, passwd: bytes | None) -> None:
        self.protocol_version = protocol_version
        self.last_zxid_seen = last_zxid_seen
        self.time_out = time_out
        self.session_id = session_id
        self.passwd = passwd

    @staticmethod
    def read(r: Reader) -> ConnectRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        v3: int
        v4: bytes | None
        if pos + 24 > end:
            _short(24, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i64_be(buf, pos + 4)
        v2 = read_i32_be(buf, pos + 12)
        v3 = read_i64_be(buf, pos + 16)
        pos += 24
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v4 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v4 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return ConnectRequest(v0, v1, v2, v3, v4)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iqiq.pack(self.protocol_version, self.last_zxid_seen, self.time_out, self.session_id))
        d = self.passwd
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ConnectResponse:
    protocol_version: Final[int]
    time_out: Final[int]
    session_id: Final[int]
    passwd: Final[bytes | None]

    def __init__(self, protocol_version: int, time_out: int, session_id: int, passwd: bytes | None) -> None:
        self.protocol_version = protocol_version
        self.time_out = time_out
        self.session_id = session_id
        self.passwd = passwd

    @staticmethod
    def read(r: Reader) -> ConnectResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        v3: bytes | None
        if pos + 16 > end:
            _short(16, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i32_be(buf, pos + 4)
        v2 = read_i64_be(buf, pos + 8)
        pos += 16
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v3 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v3 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return ConnectResponse(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iiq.pack(self.protocol_version, self.time_out, self.session_id))
        d = self.passwd
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetWatches:
    relative_zxid: Final[int]
    data_watches: Final[Sequence[str] | None]
    exist_watches: Final[Sequence[str] | None]
    child_watches: Final[Sequence[str] | None]

    def __init__(self, relative_zxid: int, data_watches: Sequence[str] | None, exist_watches: Sequence[str] | None, child_watches: Sequence[str] | None) -> None:
        self.relative_zxid = relative_zxid
        self.data_watches = data_watches
        self.exist_watches = exist_watches
        self.child_watches = child_watches

    @staticmethod
    def read(r: Reader) -> SetWatches:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: Sequence[str] | None
        v2: Sequence[str] | None
        v3: Sequence[str] | None
        if pos + 8 > end:
            _short(8, pos, end)
        v0 = read_i64_be(buf, pos)
        pos += 8
        r.pos = pos
        v1 = r.vector(Reader.ustring)
        v2 = r.vector(Reader.ustring)
        v3 = r.vector(Reader.ustring)
        return SetWatches(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_LONG_PACK(self.relative_zxid))
        w.strings(self.data_watches)
        w.strings(self.exist_watches)
        w.strings(self.child_watches)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetWatches2:
    relative_zxid: Final[int]
    data_watches: Final[Sequence[str] | None]
    exist_watches: Final[Sequence[str] | None]
    child_watches: Final[Sequence[str] | None]
    persistent_watches: Final[Sequence[str] | None]
    persistent_recursive_watches: Final[Sequence[str] | None]

    def __init__(self, relative_zxid: int, data_watches: Sequence[str] | None, exist_watches: Sequence[str] | None, child_watches: Sequence[str] | None, persistent_watches: Sequence[str] | None, persistent_recursive_watches: Sequence[str] | None) -> None:
        self.relative_zxid = relative_zxid
        self.data_watches = data_watches
        self.exist_watches = exist_watches
        self.child_watches = child_watches
        self.persistent_watches = persistent_watches
        self.persistent_recursive_watches = persistent_recursive_watches

    @staticmethod
    def read(r: Reader) -> SetWatches2:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: Sequence[str] | None
        v2: Sequence[str] | None
        v3: Sequence[str] | None
        v4: Sequence[str] | None
        v5: Sequence[str] | None
        if pos + 8 > end:
            _short(8, pos, end)
        v0 = read_i64_be(buf, pos)
        pos += 8
        r.pos = pos
        v1 = r.vector(Reader.ustring)
        v2 = r.vector(Reader.ustring)
        v3 = r.vector(Reader.ustring)
        v4 = r.vector(Reader.ustring)
        v5 = r.vector(Reader.ustring)
        return SetWatches2(v0, v1, v2, v3, v4, v5)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_LONG_PACK(self.relative_zxid))
        w.strings(self.data_watches)
        w.strings(self.exist_watches)
        w.strings(self.child_watches)
        w.strings(self.persistent_watches)
        w.strings(self.persistent_recursive_watches)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class RequestHeader:
    xid: Final[int]
    type: Final[int]

    def __init__(self, xid: int, type: int) -> None:
        self.xid = xid
        self.type = type

    @staticmethod
    def read(r: Reader) -> RequestHeader:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        if pos + 8 > end:
            _short(8, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i32_be(buf, pos + 4)
        pos += 8
        r.pos = pos
        return RequestHeader(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_ii.pack(self.xid, self.type))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class MultiHeader:
    type: Final[int]
    done: Final[bool]
    err: Final[int]

    def __init__(self, type: int, done: bool, err: int) -> None:
        self.type = type
        self.done = done
        self.err = err

    @staticmethod
    def read(r: Reader) -> MultiHeader:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: bool
        v2: int
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        if pos + 1 > end:
            _short(1, pos, end)
        v1 = buf[pos] != 0
        pos += 1
        if pos + 4 > end:
            _short(4, pos, end)
        v2 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return MultiHeader(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.type))
        a(b'\x01' if self.done else b'\x00')
        a(_INT_PACK(self.err))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class AuthPacket:
    type: Final[int]
    scheme: Final[str]
    auth: Final[bytes | None]

    def __init__(self, type: int, scheme: str, auth: bytes | None) -> None:
        self.type = type
        self.scheme = scheme
        self.auth = auth

    @staticmethod
    def read(r: Reader) -> AuthPacket:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: str
        v2: bytes | None
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v1 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v2 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v2 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return AuthPacket(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.type))
        s = self.scheme
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.auth
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ReplyHeader:
    xid: Final[int]
    zxid: Final[int]
    err: Final[int]

    def __init__(self, xid: int, zxid: int, err: int) -> None:
        self.xid = xid
        self.zxid = zxid
        self.err = err

    @staticmethod
    def read(r: Reader) -> ReplyHeader:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        if pos + 16 > end:
            _short(16, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i64_be(buf, pos + 4)
        v2 = read_i32_be(buf, pos + 12)
        pos += 16
        r.pos = pos
        return ReplyHeader(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iqi.pack(self.xid, self.zxid, self.err))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetDataRequest:
    path: Final[str]
    watch: Final[bool]

    def __init__(self, path: str, watch: bool) -> None:
        self.path = path
        self.watch = watch

    @staticmethod
    def read(r: Reader) -> GetDataRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bool
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 1 > end:
            _short(1, pos, end)
        v1 = buf[pos] != 0
        pos += 1
        r.pos = pos
        return GetDataRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(b'\x01' if self.watch else b'\x00')


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetDataRequest:
    path: Final[str]
    data: Final[bytes | None]
    version: Final[int]

    def __init__(self, path: str, data: bytes | None, version: int) -> None:
        self.path = path
        self.data = data
        self.version = version

    @staticmethod
    def read(r: Reader) -> SetDataRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v2 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return SetDataRequest(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ReconfigRequest:
    joining_servers: Final[str | None]
    leaving_servers: Final[str | None]
    new_members: Final[str | None]
    cur_config_id: Final[int]

    def __init__(self, joining_servers: str | None, leaving_servers: str | None, new_members: str | None, cur_config_id: int) -> None:
        self.joining_servers = joining_servers
        self.leaving_servers = leaving_servers
        self.new_members = new_members
        self.cur_config_id = cur_config_id

    @staticmethod
    def read(r: Reader) -> ReconfigRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str | None
        v1: str | None
        v2: str | None
        v3: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v1 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v2 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v2 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 8 > end:
            _short(8, pos, end)
        v3 = read_i64_be(buf, pos)
        pos += 8
        r.pos = pos
        return ReconfigRequest(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        o = self.joining_servers
        if o is None:
            a(_NULL)
        else:
            b = o.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        o = self.leaving_servers
        if o is None:
            a(_NULL)
        else:
            b = o.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        o = self.new_members
        if o is None:
            a(_NULL)
        else:
            b = o.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_LONG_PACK(self.cur_config_id))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetDataResponse:
    stat: Final[Stat]

    def __init__(self, stat: Stat) -> None:
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> SetDataResponse:
        v0: Stat
        v0 = Stat.read(r)
        return SetDataResponse(v0)

    def write(self, w: Writer) -> None:
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetSASLRequest:
    token: Final[bytes | None]

    def __init__(self, token: bytes | None) -> None:
        self.token = token

    @staticmethod
    def read(r: Reader) -> GetSASLRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: bytes | None
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v0 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return GetSASLRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        d = self.token
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetSASLRequest:
    token: Final[bytes | None]

    def __init__(self, token: bytes | None) -> None:
        self.token = token

    @staticmethod
    def read(r: Reader) -> SetSASLRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: bytes | None
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v0 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return SetSASLRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        d = self.token
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetSASLResponse:
    token: Final[bytes | None]

    def __init__(self, token: bytes | None) -> None:
        self.token = token

    @staticmethod
    def read(r: Reader) -> SetSASLResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: bytes | None
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v0 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return SetSASLResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        d = self.token
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateRequest:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    flags: Final[int]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, flags: int) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags

    @staticmethod
    def read(r: Reader) -> CreateRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 4 > end:
            _short(4, pos, end)
        v3 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CreateRequest(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_INT_PACK(self.flags))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateTTLRequest:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    flags: Final[int]
    ttl: Final[int]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, flags: int, ttl: int) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
        self.ttl = ttl

    @staticmethod
    def read(r: Reader) -> CreateTTLRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: int
        v4: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 12 > end:
            _short(12, pos, end)
        v3 = read_i32_be(buf, pos)
        v4 = read_i64_be(buf, pos + 4)
        pos += 12
        r.pos = pos
        return CreateTTLRequest(v0, v1, v2, v3, v4)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_S_iq.pack(self.flags, self.ttl))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class DeleteRequest:
    path: Final[str]
    version: Final[int]

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version

    @staticmethod
    def read(r: Reader) -> DeleteRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return DeleteRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetChildrenRequest:
    path: Final[str]
    watch: Final[bool]

    def __init__(self, path: str, watch: bool) -> None:
        self.path = path
        self.watch = watch

    @staticmethod
    def read(r: Reader) -> GetChildrenRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bool
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 1 > end:
            _short(1, pos, end)
        v1 = buf[pos] != 0
        pos += 1
        r.pos = pos
        return GetChildrenRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(b'\x01' if self.watch else b'\x00')


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetAllChildrenNumberRequest:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> GetAllChildrenNumberRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return GetAllChildrenNumberRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetChildren2Request:
    path: Final[str]
    watch: Final[bool]

    def __init__(self, path: str, watch: bool) -> None:
        self.path = path
        self.watch = watch

    @staticmethod
    def read(r: Reader) -> GetChildren2Request:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bool
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 1 > end:
            _short(1, pos, end)
        v1 = buf[pos] != 0
        pos += 1
        r.pos = pos
        return GetChildren2Request(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(b'\x01' if self.watch else b'\x00')


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CheckVersionRequest:
    path: Final[str]
    version: Final[int]

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version

    @staticmethod
    def read(r: Reader) -> CheckVersionRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CheckVersionRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SyncRequest:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> SyncRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return SyncRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SyncResponse:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> SyncResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return SyncResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetACLRequest:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> GetACLRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return GetACLRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetACLRequest:
    path: Final[str]
    acl: Final[Sequence[ACL] | None]
    version: Final[int]

    def __init__(self, path: str, acl: Sequence[ACL] | None, version: int) -> None:
        self.path = path
        self.acl = acl
        self.version = version

    @staticmethod
    def read(r: Reader) -> SetACLRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: Sequence[ACL] | None
        v2: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        v1 = _read_acl_vector(r)
        pos = r.pos
        if pos + 4 > end:
            _short(4, pos, end)
        v2 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return SetACLRequest(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetACLResponse:
    stat: Final[Stat]

    def __init__(self, stat: Stat) -> None:
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> SetACLResponse:
        v0: Stat
        v0 = Stat.read(r)
        return SetACLResponse(v0)

    def write(self, w: Writer) -> None:
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class AddWatchRequest:
    path: Final[str]
    mode: Final[int]

    def __init__(self, path: str, mode: int) -> None:
        self.path = path
        self.mode = mode

    @staticmethod
    def read(r: Reader) -> AddWatchRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return AddWatchRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.mode))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class WatcherEvent:
    type: Final[int]
    state: Final[int]
    path: Final[str]

    def __init__(self, type: int, state: int, path: str) -> None:
        self.type = type
        self.state = state
        self.path = path

    @staticmethod
    def read(r: Reader) -> WatcherEvent:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: str
        if pos + 8 > end:
            _short(8, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i32_be(buf, pos + 4)
        pos += 8
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v2 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v2 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return WatcherEvent(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_ii.pack(self.type, self.state))
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ErrorResponse:
    err: Final[int]

    def __init__(self, err: int) -> None:
        self.err = err

    @staticmethod
    def read(r: Reader) -> ErrorResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return ErrorResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.err))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateResponse:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> CreateResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return CreateResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Create2Response:
    path: Final[str]
    stat: Final[Stat]

    def __init__(self, path: str, stat: Stat) -> None:
        self.path = path
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> Create2Response:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: Stat
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        v1 = Stat.read(r)
        return Create2Response(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ExistsRequest:
    path: Final[str]
    watch: Final[bool]

    def __init__(self, path: str, watch: bool) -> None:
        self.path = path
        self.watch = watch

    @staticmethod
    def read(r: Reader) -> ExistsRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bool
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 1 > end:
            _short(1, pos, end)
        v1 = buf[pos] != 0
        pos += 1
        r.pos = pos
        return ExistsRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(b'\x01' if self.watch else b'\x00')


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ExistsResponse:
    stat: Final[Stat]

    def __init__(self, stat: Stat) -> None:
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> ExistsResponse:
        v0: Stat
        v0 = Stat.read(r)
        return ExistsResponse(v0)

    def write(self, w: Writer) -> None:
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetDataResponse:
    data: Final[bytes | None]
    stat: Final[Stat]

    def __init__(self, data: bytes | None, stat: Stat) -> None:
        self.data = data
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> GetDataResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: bytes | None
        v1: Stat
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v0 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v1 = Stat.read(r)
        return GetDataResponse(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetChildrenResponse:
    children: Final[Sequence[str] | None]

    def __init__(self, children: Sequence[str] | None) -> None:
        self.children = children

    @staticmethod
    def read(r: Reader) -> GetChildrenResponse:
        v0: Sequence[str] | None
        v0 = r.vector(Reader.ustring)
        return GetChildrenResponse(v0)

    def write(self, w: Writer) -> None:
        w.strings(self.children)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetAllChildrenNumberResponse:
    total_number: Final[int]

    def __init__(self, total_number: int) -> None:
        self.total_number = total_number

    @staticmethod
    def read(r: Reader) -> GetAllChildrenNumberResponse:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return GetAllChildrenNumberResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.total_number))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetChildren2Response:
    children: Final[Sequence[str] | None]
    stat: Final[Stat]

    def __init__(self, children: Sequence[str] | None, stat: Stat) -> None:
        self.children = children
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> GetChildren2Response:
        v0: Sequence[str] | None
        v1: Stat
        v0 = r.vector(Reader.ustring)
        v1 = Stat.read(r)
        return GetChildren2Response(v0, v1)

    def write(self, w: Writer) -> None:
        w.strings(self.children)
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetACLResponse:
    acl: Final[Sequence[ACL] | None]
    stat: Final[Stat]

    def __init__(self, acl: Sequence[ACL] | None, stat: Stat) -> None:
        self.acl = acl
        self.stat = stat

    @staticmethod
    def read(r: Reader) -> GetACLResponse:
        v0: Sequence[ACL] | None
        v1: Stat
        v0 = _read_acl_vector(r)
        v1 = Stat.read(r)
        return GetACLResponse(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        self.stat.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CheckWatchesRequest:
    path: Final[str]
    type: Final[int]

    def __init__(self, path: str, type: int) -> None:
        self.path = path
        self.type = type

    @staticmethod
    def read(r: Reader) -> CheckWatchesRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CheckWatchesRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.type))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class RemoveWatchesRequest:
    path: Final[str]
    type: Final[int]

    def __init__(self, path: str, type: int) -> None:
        self.path = path
        self.type = type

    @staticmethod
    def read(r: Reader) -> RemoveWatchesRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return RemoveWatchesRequest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.type))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetEphemeralsRequest:
    prefix_path: Final[str]

    def __init__(self, prefix_path: str) -> None:
        self.prefix_path = prefix_path

    @staticmethod
    def read(r: Reader) -> GetEphemeralsRequest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return GetEphemeralsRequest(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.prefix_path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class GetEphemeralsResponse:
    ephemerals: Final[Sequence[str] | None]

    def __init__(self, ephemerals: Sequence[str] | None) -> None:
        self.ephemerals = ephemerals

    @staticmethod
    def read(r: Reader) -> GetEphemeralsResponse:
        v0: Sequence[str] | None
        v0 = r.vector(Reader.ustring)
        return GetEphemeralsResponse(v0)

    def write(self, w: Writer) -> None:
        w.strings(self.ephemerals)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class WhoAmIResponse:
    client_info: Final[Sequence[ClientInfo] | None]

    def __init__(self, client_info: Sequence[ClientInfo] | None) -> None:
        self.client_info = client_info

    @staticmethod
    def read(r: Reader) -> WhoAmIResponse:
        v0: Sequence[ClientInfo] | None
        v0 = r.vector(ClientInfo.read)
        return WhoAmIResponse(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        items = self.client_info
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)


# ---- org.apache.zookeeper.server.quorum / persistence ------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class LearnerInfo:
    serverid: Final[int]
    protocol_version: Final[int]
    config_version: Final[int]

    def __init__(self, serverid: int, protocol_version: int, config_version: int) -> None:
        self.serverid = serverid
        self.protocol_version = protocol_version
        self.config_version = config_version

    @staticmethod
    def read(r: Reader) -> LearnerInfo:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        if pos + 20 > end:
            _short(20, pos, end)
        v0 = read_i64_be(buf, pos)
        v1 = read_i32_be(buf, pos + 8)
        v2 = read_i64_be(buf, pos + 12)
        pos += 20
        r.pos = pos
        return LearnerInfo(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_qiq.pack(self.serverid, self.protocol_version, self.config_version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class QuorumPacket:
    type: Final[int]
    zxid: Final[int]
    data: Final[bytes | None]
    authinfo: Final[Sequence[Id] | None]

    def __init__(self, type: int, zxid: int, data: bytes | None, authinfo: Sequence[Id] | None) -> None:
        self.type = type
        self.zxid = zxid
        self.data = data
        self.authinfo = authinfo

    @staticmethod
    def read(r: Reader) -> QuorumPacket:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: bytes | None
        v3: Sequence[Id] | None
        if pos + 12 > end:
            _short(12, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i64_be(buf, pos + 4)
        pos += 12
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v2 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v2 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v3 = r.vector(Id.read)
        return QuorumPacket(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iq.pack(self.type, self.zxid))
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.authinfo
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class FileHeader:
    magic: Final[int]
    version: Final[int]
    dbid: Final[int]

    def __init__(self, magic: int, version: int, dbid: int) -> None:
        self.magic = magic
        self.version = version
        self.dbid = dbid

    @staticmethod
    def read(r: Reader) -> FileHeader:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        if pos + 16 > end:
            _short(16, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i32_be(buf, pos + 4)
        v2 = read_i64_be(buf, pos + 8)
        pos += 16
        r.pos = pos
        return FileHeader(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iiq.pack(self.magic, self.version, self.dbid))


# ---- org.apache.zookeeper.txn ------------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class TxnDigest:
    version: Final[int]
    tree_digest: Final[int]

    def __init__(self, version: int, tree_digest: int) -> None:
        self.version = version
        self.tree_digest = tree_digest

    @staticmethod
    def read(r: Reader) -> TxnDigest:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        if pos + 12 > end:
            _short(12, pos, end)
        v0 = read_i32_be(buf, pos)
        v1 = read_i64_be(buf, pos + 4)
        pos += 12
        r.pos = pos
        return TxnDigest(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_iq.pack(self.version, self.tree_digest))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class TxnHeader:
    client_id: Final[int]
    cxid: Final[int]
    zxid: Final[int]
    time: Final[int]
    type: Final[int]

    def __init__(self, client_id: int, cxid: int, zxid: int, time: int, type: int) -> None:
        self.client_id = client_id
        self.cxid = cxid
        self.zxid = zxid
        self.time = time
        self.type = type

    @staticmethod
    def read(r: Reader) -> TxnHeader:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: int
        v2: int
        v3: int
        v4: int
        if pos + 32 > end:
            _short(32, pos, end)
        v0 = read_i64_be(buf, pos)
        v1 = read_i32_be(buf, pos + 8)
        v2 = read_i64_be(buf, pos + 12)
        v3 = read_i64_be(buf, pos + 20)
        v4 = read_i32_be(buf, pos + 28)
        pos += 32
        r.pos = pos
        return TxnHeader(v0, v1, v2, v3, v4)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_S_qiqqi.pack(self.client_id, self.cxid, self.zxid, self.time, self.type))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateTxnV0:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    ephemeral: Final[bool]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, ephemeral: bool) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.ephemeral = ephemeral

    @staticmethod
    def read(r: Reader) -> CreateTxnV0:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: bool
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 1 > end:
            _short(1, pos, end)
        v3 = buf[pos] != 0
        pos += 1
        r.pos = pos
        return CreateTxnV0(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(b'\x01' if self.ephemeral else b'\x00')


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateTxn:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    ephemeral: Final[bool]
    parent_cversion: Final[int]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, ephemeral: bool, parent_cversion: int) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.ephemeral = ephemeral
        self.parent_cversion = parent_cversion

    @staticmethod
    def read(r: Reader) -> CreateTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: bool
        v4: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 1 > end:
            _short(1, pos, end)
        v3 = buf[pos] != 0
        pos += 1
        if pos + 4 > end:
            _short(4, pos, end)
        v4 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CreateTxn(v0, v1, v2, v3, v4)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(b'\x01' if self.ephemeral else b'\x00')
        a(_INT_PACK(self.parent_cversion))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateTTLTxn:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    parent_cversion: Final[int]
    ttl: Final[int]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, parent_cversion: int, ttl: int) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.parent_cversion = parent_cversion
        self.ttl = ttl

    @staticmethod
    def read(r: Reader) -> CreateTTLTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: int
        v4: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 12 > end:
            _short(12, pos, end)
        v3 = read_i32_be(buf, pos)
        v4 = read_i64_be(buf, pos + 4)
        pos += 12
        r.pos = pos
        return CreateTTLTxn(v0, v1, v2, v3, v4)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_S_iq.pack(self.parent_cversion, self.ttl))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateContainerTxn:
    path: Final[str]
    data: Final[bytes | None]
    acl: Final[Sequence[ACL] | None]
    parent_cversion: Final[int]

    def __init__(self, path: str, data: bytes | None, acl: Sequence[ACL] | None, parent_cversion: int) -> None:
        self.path = path
        self.data = data
        self.acl = acl
        self.parent_cversion = parent_cversion

    @staticmethod
    def read(r: Reader) -> CreateContainerTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: Sequence[ACL] | None
        v3: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        v2 = _read_acl_vector(r)
        pos = r.pos
        if pos + 4 > end:
            _short(4, pos, end)
        v3 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CreateContainerTxn(v0, v1, v2, v3)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_INT_PACK(self.parent_cversion))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class DeleteTxn:
    path: Final[str]

    def __init__(self, path: str) -> None:
        self.path = path

    @staticmethod
    def read(r: Reader) -> DeleteTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        return DeleteTxn(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetDataTxn:
    path: Final[str]
    data: Final[bytes | None]
    version: Final[int]

    def __init__(self, path: str, data: bytes | None, version: int) -> None:
        self.path = path
        self.data = data
        self.version = version

    @staticmethod
    def read(r: Reader) -> SetDataTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: bytes | None
        v2: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v2 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return SetDataTxn(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CheckVersionTxn:
    path: Final[str]
    version: Final[int]

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version

    @staticmethod
    def read(r: Reader) -> CheckVersionTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CheckVersionTxn(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetACLTxn:
    path: Final[str]
    acl: Final[Sequence[ACL] | None]
    version: Final[int]

    def __init__(self, path: str, acl: Sequence[ACL] | None, version: int) -> None:
        self.path = path
        self.acl = acl
        self.version = version

    @staticmethod
    def read(r: Reader) -> SetACLTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: Sequence[ACL] | None
        v2: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        r.pos = pos
        v1 = _read_acl_vector(r)
        pos = r.pos
        if pos + 4 > end:
            _short(4, pos, end)
        v2 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return SetACLTxn(v0, v1, v2)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        items = self.acl
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)
        a(_INT_PACK(self.version))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SetMaxChildrenTxn:
    path: Final[str]
    max: Final[int]

    def __init__(self, path: str, max: int) -> None:
        self.path = path
        self.max = max

    @staticmethod
    def read(r: Reader) -> SetMaxChildrenTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: str
        v1: int
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v0 = ''
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            try:
                v0 = buf[pos:pos + n].decode()
            except UnicodeDecodeError:
                _not_utf8(pos)
            pos += n
        if pos + 4 > end:
            _short(4, pos, end)
        v1 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return SetMaxChildrenTxn(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        s = self.path
        if s is None:
            a(_NULL)
        else:
            b = s.encode('utf-8')
            a(_INT_PACK(len(b)))
            a(b)
        a(_INT_PACK(self.max))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CreateSessionTxn:
    time_out: Final[int]

    def __init__(self, time_out: int) -> None:
        self.time_out = time_out

    @staticmethod
    def read(r: Reader) -> CreateSessionTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return CreateSessionTxn(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.time_out))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class CloseSessionTxn:
    paths2_delete: Final[Sequence[str] | None]

    def __init__(self, paths2_delete: Sequence[str] | None) -> None:
        self.paths2_delete = paths2_delete

    @staticmethod
    def read(r: Reader) -> CloseSessionTxn:
        v0: Sequence[str] | None
        v0 = r.vector(Reader.ustring)
        return CloseSessionTxn(v0)

    def write(self, w: Writer) -> None:
        w.strings(self.paths2_delete)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ErrorTxn:
    err: Final[int]

    def __init__(self, err: int) -> None:
        self.err = err

    @staticmethod
    def read(r: Reader) -> ErrorTxn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        r.pos = pos
        return ErrorTxn(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.err))


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Txn:
    type: Final[int]
    data: Final[bytes | None]

    def __init__(self, type: int, data: bytes | None) -> None:
        self.type = type
        self.data = data

    @staticmethod
    def read(r: Reader) -> Txn:
        buf = r.buf
        pos = r.pos
        end = r.end
        v0: int
        v1: bytes | None
        if pos + 4 > end:
            _short(4, pos, end)
        v0 = read_i32_be(buf, pos)
        pos += 4
        if pos + 4 > end:
            _short(4, pos, end)
        n = read_i32_be(buf, pos)
        pos += 4
        if n == -1:
            v1 = None
        else:
            if n < -1:
                _bad_length(n, pos - 4)
            if pos + n > end:
                _short(n, pos, end)
            v1 = buf[pos:pos + n]
            pos += n
        r.pos = pos
        return Txn(v0, v1)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        a(_INT_PACK(self.type))
        d = self.data
        if d is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(d)))
            a(d)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class MultiTxn:
    txns: Final[Sequence[Txn] | None]

    def __init__(self, txns: Sequence[Txn] | None) -> None:
        self.txns = txns

    @staticmethod
    def read(r: Reader) -> MultiTxn:
        v0: Sequence[Txn] | None
        v0 = r.vector(Txn.read)
        return MultiTxn(v0)

    def write(self, w: Writer) -> None:
        a = w.parts.append
        items = self.txns
        if items is None:
            a(_NULL)
        else:
            a(_INT_PACK(len(items)))
            for item in items:
                item.write(w)


STAT: Final = _S_qqqqiiiqiiq  # a node's serialized Stat, kept ready by the tree
EMPTY_STAT: Final = Stat(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
ANYONE_ID: Final = Id("world", "anyone")
OPEN_ACL_UNSAFE: Final = (ACL(31, ANYONE_ID),)
CREATOR_ALL_ACL: Final = (ACL(31, Id("auth", "")),)
READ_ACL_UNSAFE: Final = (ACL(1, ANYONE_ID),)
