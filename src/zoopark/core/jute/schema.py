"""The jute records' schema (ZooKeeper 3.8's zookeeper.jute), and the generator of records.py from it.

records.py is generated, checked in, and never edited by hand: `python -m zoopark.tools.jutegen` writes it
again and tests/test_jutegen.py fails when the checked-in file differs from what this schema generates. The
generated module is plain, typed Python (a class per record with its `__init__`, `read` and `write` written
out), so mypy checks it and mypyc compiles it like any other module; nothing is generated at import.

Field types: Int, Long, Bool, Buffer (bytes | None), UString (str), OptString (str | None),
Strings (vector<ustring>), a record's name, or Vec[Name] (a vector of a record).
"""

from __future__ import annotations

import re

# (section, record, "field Type, field Type, ..."): field order and types are the wire format.
RECORDS: tuple[tuple[str, str, str], ...] = (
    ("org.apache.zookeeper.data", "Id", "scheme UString, id UString"),
    ("", "ACL", "perms Int, id Id"),
    ("", "Stat", "czxid Long, mzxid Long, ctime Long, mtime Long, version Int, cversion Int, aversion Int, "
     "ephemeral_owner Long, data_length Int, num_children Int, pzxid Long"),
    ("", "StatPersisted", "czxid Long, mzxid Long, ctime Long, mtime Long, version Int, cversion Int, "
     "aversion Int, ephemeral_owner Long, pzxid Long"),
    ("", "ClientInfo", "auth_scheme UString, user UString"),
    ("org.apache.zookeeper.proto", "ConnectRequest",
     "protocol_version Int, last_zxid_seen Long, time_out Int, session_id Long, passwd Buffer"),
    ("", "ConnectResponse", "protocol_version Int, time_out Int, session_id Long, passwd Buffer"),
    ("", "SetWatches", "relative_zxid Long, data_watches Strings, exist_watches Strings, child_watches Strings"),
    ("", "SetWatches2", "relative_zxid Long, data_watches Strings, exist_watches Strings, child_watches Strings, "
     "persistent_watches Strings, persistent_recursive_watches Strings"),
    ("", "RequestHeader", "xid Int, type Int"),
    ("", "MultiHeader", "type Int, done Bool, err Int"),
    ("", "AuthPacket", "type Int, scheme UString, auth Buffer"),
    ("", "ReplyHeader", "xid Int, zxid Long, err Int"),
    ("", "GetDataRequest", "path UString, watch Bool"),
    ("", "SetDataRequest", "path UString, data Buffer, version Int"),
    ("", "ReconfigRequest",
     "joining_servers OptString, leaving_servers OptString, new_members OptString, cur_config_id Long"),
    ("", "SetDataResponse", "stat Stat"),
    ("", "GetSASLRequest", "token Buffer"),
    ("", "SetSASLRequest", "token Buffer"),
    ("", "SetSASLResponse", "token Buffer"),
    ("", "CreateRequest", "path UString, data Buffer, acl Vec[ACL], flags Int"),
    ("", "CreateTTLRequest", "path UString, data Buffer, acl Vec[ACL], flags Int, ttl Long"),
    ("", "DeleteRequest", "path UString, version Int"),
    ("", "GetChildrenRequest", "path UString, watch Bool"),
    ("", "GetAllChildrenNumberRequest", "path UString"),
    ("", "GetChildren2Request", "path UString, watch Bool"),
    ("", "CheckVersionRequest", "path UString, version Int"),
    ("", "SyncRequest", "path UString"),
    ("", "SyncResponse", "path UString"),
    ("", "GetACLRequest", "path UString"),
    ("", "SetACLRequest", "path UString, acl Vec[ACL], version Int"),
    ("", "SetACLResponse", "stat Stat"),
    ("", "AddWatchRequest", "path UString, mode Int"),
    ("", "WatcherEvent", "type Int, state Int, path UString"),
    ("", "ErrorResponse", "err Int"),
    ("", "CreateResponse", "path UString"),
    ("", "Create2Response", "path UString, stat Stat"),
    ("", "ExistsRequest", "path UString, watch Bool"),
    ("", "ExistsResponse", "stat Stat"),
    ("", "GetDataResponse", "data Buffer, stat Stat"),
    ("", "GetChildrenResponse", "children Strings"),
    ("", "GetAllChildrenNumberResponse", "total_number Int"),
    ("", "GetChildren2Response", "children Strings, stat Stat"),
    ("", "GetACLResponse", "acl Vec[ACL], stat Stat"),
    ("", "CheckWatchesRequest", "path UString, type Int"),
    ("", "RemoveWatchesRequest", "path UString, type Int"),
    ("", "GetEphemeralsRequest", "prefix_path UString"),
    ("", "GetEphemeralsResponse", "ephemerals Strings"),
    ("", "WhoAmIResponse", "client_info Vec[ClientInfo]"),
    ("org.apache.zookeeper.server.quorum / persistence", "LearnerInfo",
     "serverid Long, protocol_version Int, config_version Long"),
    ("", "QuorumPacket", "type Int, zxid Long, data Buffer, authinfo Vec[Id]"),
    ("", "FileHeader", "magic Int, version Int, dbid Long"),
    ("org.apache.zookeeper.txn", "TxnDigest", "version Int, tree_digest Long"),
    ("", "TxnHeader", "client_id Long, cxid Int, zxid Long, time Long, type Int"),
    ("", "CreateTxnV0", "path UString, data Buffer, acl Vec[ACL], ephemeral Bool"),
    ("", "CreateTxn", "path UString, data Buffer, acl Vec[ACL], ephemeral Bool, parent_cversion Int"),
    ("", "CreateTTLTxn", "path UString, data Buffer, acl Vec[ACL], parent_cversion Int, ttl Long"),
    ("", "CreateContainerTxn", "path UString, data Buffer, acl Vec[ACL], parent_cversion Int"),
    ("", "DeleteTxn", "path UString"),
    ("", "SetDataTxn", "path UString, data Buffer, version Int"),
    ("", "CheckVersionTxn", "path UString, version Int"),
    ("", "SetACLTxn", "path UString, acl Vec[ACL], version Int"),
    ("", "SetMaxChildrenTxn", "path UString, max Int"),
    ("", "CreateSessionTxn", "time_out Int"),
    ("", "CloseSessionTxn", "paths2_delete Strings"),
    ("", "ErrorTxn", "err Int"),
    ("", "Txn", "type Int, data Buffer"),
    ("", "MultiTxn", "txns Vec[Txn]"),
)

_VEC = re.compile(r"^Vec\[(\w+)\]$")
_PY_TYPES = {"Int": "int", "Long": "int", "Bool": "bool", "Buffer": "bytes | None", "UString": "str",
             "OptString": "str | None", "Strings": "Sequence[str] | None"}
_FIXED = {"Int": ("i", 4), "Long": ("q", 8)}  # runs of these: one bounds check to read, one struct to write

_HEADER = '''\
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
_NULL: Final = b"\\xff\\xff\\xff\\xff"


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
_LAST_RAW: list[bytes] = [b"\\x00\\x00\\x00\\x00"]  # the empty vector: ()
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
'''

_FOOTER = '''

STAT: Final = _S_qqqqiiiqiiq  # a node's serialized Stat, kept ready by the tree
EMPTY_STAT: Final = Stat(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
ANYONE_ID: Final = Id("world", "anyone")
OPEN_ACL_UNSAFE: Final = (ACL(31, ANYONE_ID),)
CREATOR_ALL_ACL: Final = (ACL(31, Id("auth", "")),)
READ_ACL_UNSAFE: Final = (ACL(1, ANYONE_ID),)
'''


def _fields(spec: str) -> list[tuple[str, str]]:
    out = []
    for part in spec.split(","):
        name, typ = part.split()
        out.append((name, typ))
    return out


def _py_type(t: str) -> str:
    m = _VEC.match(t)
    if m:
        return f"Sequence[{m.group(1)}] | None"
    return _PY_TYPES.get(t, t)


def _runs(fields: list[tuple[str, str]]) -> list[list[int]]:
    """Consecutive fixed-width fields grouped (indices); every other field alone."""
    runs: list[list[int]] = []
    for i, (_, t) in enumerate(fields):
        if t in _FIXED and runs and fields[runs[-1][-1]][1] in _FIXED:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _struct_name(fmt: str) -> str:
    return f"_S_{fmt}"


def _read_length(v: str, null: str) -> list[str]:
    return ["if pos + 4 > end:", "    _short(4, pos, end)", "n = read_i32_be(buf, pos)", "pos += 4",
            "if n == -1:", f"    {v} = {null}", "else:", "    if n < -1:", "        _bad_length(n, pos - 4)",
            "    if pos + n > end:", "        _short(n, pos, end)"]


def _read_field(v: str, t: str) -> list[str]:
    if t == "Int":
        return ["if pos + 4 > end:", "    _short(4, pos, end)", f"{v} = read_i32_be(buf, pos)", "pos += 4"]
    if t == "Long":
        return ["if pos + 8 > end:", "    _short(8, pos, end)", f"{v} = read_i64_be(buf, pos)", "pos += 8"]
    if t == "Bool":
        return ["if pos + 1 > end:", "    _short(1, pos, end)", f"{v} = buf[pos] != 0", "pos += 1"]
    if t == "Buffer":
        return _read_length(v, "None") + [f"    {v} = buf[pos:pos + n]", "    pos += n"]
    if t in ("UString", "OptString"):
        return _read_length(v, "''" if t == "UString" else "None") + [
            "    try:", f"        {v} = buf[pos:pos + n].decode()", "    except UnicodeDecodeError:",
            "        _not_utf8(pos)", "    pos += n"]
    # what another reader reads: the position goes back to the Reader and comes back from it
    m = _VEC.match(t)
    if t == "Strings":
        call = "r.vector(Reader.ustring)"
    elif m and m.group(1) == "ACL":
        call = "_read_acl_vector(r)"
    elif m:
        call = f"r.vector({m.group(1)}.read)"
    else:
        call = f"{t}.read(r)"
    return ["r.pos = pos", f"{v} = {call}", "pos = r.pos"]


def _write_field(v: str, t: str) -> list[str]:
    if t == "Int":
        return [f"a(_INT_PACK({v}))"]
    if t == "Long":
        return [f"a(_LONG_PACK({v}))"]
    if t == "Bool":
        return [f"a(b'\\x01' if {v} else b'\\x00')"]
    if t == "Buffer":
        return [f"d = {v}", "if d is None:", "    a(_NULL)", "else:", "    a(_INT_PACK(len(d)))", "    a(d)"]
    if t in ("UString", "OptString"):
        s = "s" if t == "UString" else "o"
        return [f"{s} = {v}", f"if {s} is None:", "    a(_NULL)", "else:", f"    b = {s}.encode('utf-8')",
                "    a(_INT_PACK(len(b)))", "    a(b)"]
    if t == "Strings":
        return [f"w.strings({v})"]
    if _VEC.match(t):
        return [f"items = {v}", "if items is None:", "    a(_NULL)", "else:", "    a(_INT_PACK(len(items)))",
                "    for item in items:", "        item.write(w)"]
    return [f"{v}.write(w)"]


def _record(name: str, fields: list[tuple[str, str]], structs: set[str]) -> list[str]:
    out = ["", "", "@final", "@dataclass(init=False, unsafe_hash=True, slots=True)", f"class {name}:"]
    out += [f"    {f}: Final[{_py_type(t)}]" for f, t in fields]
    params = ", ".join(f"{f}: {_py_type(t)}" for f, t in fields)
    out += ["", f"    def __init__(self, {params}) -> None:"]
    out += [f"        self.{f} = {f}" for f, _ in fields]
    body: list[str] = ["buf = r.buf", "pos = r.pos", "end = r.end"]
    body += [f"v{i}: {_py_type(t)}" for i, (_, t) in enumerate(fields)]
    writes: list[str] = ["a = w.parts.append"]
    for run in _runs(fields):
        if len(run) > 1:
            fmt = "".join(_FIXED[fields[i][1]][0] for i in run)
            size = sum(_FIXED[fields[i][1]][1] for i in run)
            structs.add(fmt)
            s = _struct_name(fmt)
            body += [f"if pos + {size} > end:", f"    _short({size}, pos, end)"]
            off = 0
            for i in run:
                width = _FIXED[fields[i][1]][1]
                at = f"pos + {off}" if off else "pos"
                body.append(f"v{i} = read_i{width * 8}_be(buf, {at})")
                off += width
            body.append(f"pos += {size}")
            writes.append(f"a({s}.pack(" + ", ".join(f"self.{fields[i][0]}" for i in run) + "))")
        else:
            i = run[0]
            body += _read_field(f"v{i}", fields[i][1])
            writes += _write_field(f"self.{fields[i][0]}", fields[i][1])
    body += ["r.pos = pos", f"return {name}(" + ", ".join(f"v{i}" for i in range(len(fields))) + ")"]
    body = _tidy(body)
    if not any("a(" in line for line in writes):
        writes = writes[1:]
    out += ["", "    @staticmethod", f"    def read(r: Reader) -> {name}:"] + [f"        {line}" for line in body]
    out += ["", "    def write(self, w: Writer) -> None:"] + [f"        {line}" for line in writes]
    return out


def _tidy(body: list[str]) -> list[str]:
    """Drop the position's round trips between two other readers, and locals nothing reads."""
    out: list[str] = []
    for line in body:
        if out and line == "r.pos = pos" and out[-1] == "pos = r.pos":
            out.pop()
        else:
            out.append(line)
    if out[3:] and not any("pos" in line for line in out[3:] if line != "r.pos = pos"):
        out = [line for line in out if line != "r.pos = pos" and line != "pos = r.pos"]
    for name in ("buf", "end", "pos"):
        if not any(re.search(rf"\b{name}\b", line) for line in out if not line.startswith(f"{name} = ")):
            out = [line for line in out if not line.startswith(f"{name} = ")]
    return out


def render() -> str:
    """The text of records.py."""
    structs: set[str] = set()
    body: list[str] = []
    for section, name, spec in RECORDS:
        if section:
            body += ["", "", f"# ---- {section} ".ljust(110, "-")]
        body += _record(name, _fields(spec), structs)
    struct_lines = [""] + [f'{_struct_name(f)}: Final = struct.Struct(">{f}")' for f in sorted(structs)]
    return _HEADER + "\n".join(struct_lines) + "\n".join(body) + "\n" + _FOOTER
