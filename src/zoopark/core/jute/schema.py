"""Declarative jute records: a frozen slots dataclass whose annotations name jute types.

`@record` generates `read(r)` and `write(w)` from the field annotations once, at import, as straight-line
code, so a record costs what a hand-written codec would. Field type names:
    Int, Long, Bool, Buffer (bytes | None), UString (str), OptString (str | None),
    Strings (vector<ustring>), a record class name, or Vec[Name] (vector of a record).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import Any, TypeAlias

from ..values import value
from .io import INT, LONG, JuteError, Reader, Writer

Int: TypeAlias = int
Long: TypeAlias = int
Bool: TypeAlias = bool
Buffer: TypeAlias = bytes | None
UString: TypeAlias = str
OptString: TypeAlias = str | None
Strings: TypeAlias = list[str] | None

_VEC = re.compile(r"^Vec\[(\w+)\]$")
_PRIMITIVES = ("Int", "Long", "Bool", "Buffer", "UString", "OptString", "Strings")


class Vec(list):  # marker for annotations only: Vec[ACL] is a vector of ACL records
    def __class_getitem__(cls, item: Any) -> Any:
        return list


# Straight-line code for each primitive: reading works on the locals buf / pos / end (the Reader's, written
# back before a nested record or a vector is read, and at the end), writing appends to the Writer's parts.
# The checks and their errors are Reader's (io.py), one function call per record instead of several per field.
_READ = {
    "Int": "if pos + 4 > end: _short(4, pos, end)\n{v} = _INT(buf, pos)[0]\npos += 4",
    "Long": "if pos + 8 > end: _short(8, pos, end)\n{v} = _LONG(buf, pos)[0]\npos += 8",
    "Bool": "if pos + 1 > end: _short(1, pos, end)\n{v} = buf[pos] != 0\npos += 1",
}
_READ_LENGTH = ("if pos + 4 > end: _short(4, pos, end)\nn = _INT(buf, pos)[0]\npos += 4\n"
                "if n == -1:\n    {v} = {null}\nelse:\n    if n < -1: _bad_length(n, pos - 4)\n"
                "    if pos + n > end: _short(n, pos, end)\n")
_READ["Buffer"] = _READ_LENGTH.replace("{null}", "None") + "    {v} = bytes(buf[pos:pos + n])\n    pos += n"
_READ_TEXT = ("    try:\n        {v} = str(buf[pos:pos + n], 'utf-8')\n    except UnicodeDecodeError:\n"
              "        _not_utf8(pos)\n    pos += n")
_READ["UString"] = _READ_LENGTH.replace("{null}", "''") + _READ_TEXT
_READ["OptString"] = _READ_LENGTH.replace("{null}", "None") + _READ_TEXT
_WRITE = {
    "Int": "a(_INT_PACK({v}))",
    "Long": "a(_LONG_PACK({v}))",
    "Bool": "a(b'\\x01' if {v} else b'\\x00')",
    "Buffer": "v = {v}\nif v is None:\n    a(_NULL)\nelse:\n    a(_INT_PACK(len(v)))\n    a(v)",
    "UString": "v = {v}\nif v is None:\n    a(_NULL)\nelse:\n    v = v.encode('utf-8')\n    a(_INT_PACK(len(v)))\n"
               "    a(v)",
    "Strings": "w.strings({v})",
}
_WRITE["OptString"] = _WRITE["UString"]


def _short(n: int, pos: int, end: int) -> None:
    raise JuteError(f"record truncated: need {n} bytes at offset {pos}, frame has {end}")


def _bad_length(n: int, pos: int) -> None:
    raise JuteError(f"unreasonable length {n} at offset {pos}")


def _not_utf8(pos: int) -> None:
    raise JuteError(f"string at offset {pos} is not UTF-8")


_ENV = {"Reader": Reader, "_short": _short, "_bad_length": _bad_length, "_not_utf8": _not_utf8,
        "_INT": INT.unpack_from, "_LONG": LONG.unpack_from, "_INT_PACK": INT.pack, "_LONG_PACK": LONG.pack,
        "_NULL": b"\xff\xff\xff\xff"}


def _indent(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())


def _codegen(cls: type) -> None:
    module = sys.modules[cls.__module__].__dict__
    env: dict[str, Any] = {**_ENV, "cls": cls}
    reads, writes, names = [], [], []
    for i, f in enumerate(dataclasses.fields(cls)):
        t = f.type if isinstance(f.type, str) else f.type.__name__
        v, attr = f"v{i}", f"self.{f.name}"
        names.append(v)
        m = _VEC.match(t)
        if t in _READ:
            reads.append(_READ[t].format(v=v))
            writes.append(_WRITE[t].format(v=attr))
            continue
        # what another reader reads: the position goes back to the Reader and comes back from it
        if t == "Strings":
            call = "r.vector(Reader.ustring)"
            writes.append(_WRITE[t].format(v=attr))
        elif m:
            item = m.group(1)
            env[item] = module[item]
            call = f"{item}.read_vector(r)" if hasattr(module[item], "read_vector") else f"r.vector({item}.read)"
            writes.append(f"w.vector({attr}, _w_{item})")
            env[f"_w_{item}"] = _item_writer
        else:
            env[t] = module[t]
            call = f"{t}.read(r)"
            writes.append(f"{attr}.write(w)")
        reads.append(f"r.pos = pos\n{v} = {call}\npos = r.pos")
    src = "def read(r):\n    buf = r.buf\n    pos = r.pos\n    end = r.end\n"
    src += "".join(_indent(code) for code in reads)
    src += f"    r.pos = pos\n    return cls({', '.join(names)})\n"
    src += "def write(self, w):\n    a = w.parts.append\n" + "".join(_indent(code) for code in writes)
    exec(compile(src, f"<jute {cls.__name__}>", "exec"), env)  # noqa: S102 - generated from annotations
    cls.read = staticmethod(env["read"])
    cls.write = env["write"]


def _item_writer(w: Writer, item: Any) -> None:
    item.write(w)


def record(cls: type) -> type:
    """Turn a class with jute-typed annotations into a frozen slots dataclass with read/write/to_bytes."""
    dc = value(cls)
    pending.append(dc)
    return dc


pending: list[type] = []


def finalize() -> None:
    """Generate codecs for every record declared so far (call at the end of a records module)."""
    while pending:
        _codegen(pending.pop(0))


def to_bytes(rec: Any) -> bytes:
    w = Writer()
    rec.write(w)
    return w.getvalue()


def from_bytes(cls: Any, data: bytes) -> Any:
    r = Reader(data)
    return cls.read(r)
