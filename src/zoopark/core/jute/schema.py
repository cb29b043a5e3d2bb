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

from .io import Reader, Writer

Int: TypeAlias = int
Long: TypeAlias = int
Bool: TypeAlias = bool
Buffer: TypeAlias = bytes | None
UString: TypeAlias = str
OptString: TypeAlias = str | None
Strings: TypeAlias = list[str] | None

_PRIMITIVE_READ = {
    "Int": "r.int()",
    "Long": "r.long()",
    "Bool": "r.bool()",
    "Buffer": "r.buffer()",
    "UString": "r.ustring()",
    "OptString": "r.string()",
    "Strings": "r.vector(Reader.ustring)",
}
_PRIMITIVE_WRITE = {
    "Int": "w.int({v})",
    "Long": "w.long({v})",
    "Bool": "w.bool({v})",
    "Buffer": "w.buffer({v})",
    "UString": "w.string({v})",
    "OptString": "w.string({v})",
    "Strings": "w.strings({v})",
}
_VEC = re.compile(r"^Vec\[(\w+)\]$")


class Vec(list):  # marker for annotations only: Vec[ACL] is a vector of ACL records
    def __class_getitem__(cls, item: Any) -> Any:
        return list


def _codegen(cls: type) -> None:
    module = sys.modules[cls.__module__].__dict__
    env: dict[str, Any] = {"Reader": Reader, "cls": cls}
    reads, writes = [], []
    for f in dataclasses.fields(cls):
        t = f.type if isinstance(f.type, str) else f.type.__name__
        m = _VEC.match(t)
        if t in _PRIMITIVE_READ:
            reads.append(_PRIMITIVE_READ[t])
            writes.append(_PRIMITIVE_WRITE[t].format(v=f"self.{f.name}"))
        elif m:
            env[m.group(1)] = module[m.group(1)]
            item_cls = module[m.group(1)]
            if hasattr(item_cls, "read_vector"):  # a record may bring a faster reader for its vectors
                reads.append(f"{m.group(1)}.read_vector(r)")
            else:
                reads.append(f"r.vector({m.group(1)}.read)")
            writes.append(f"w.vector(self.{f.name}, _w_{m.group(1)})")
            env[f"_w_{m.group(1)}"] = _item_writer
        else:
            env[t] = module[t]
            reads.append(f"{t}.read(r)")
            writes.append(f"self.{f.name}.write(w)")
    src = "def read(r):\n    return cls(" + ", ".join(reads) + ")\n"
    src += "def write(self, w):\n" + "".join(f"    {line}\n" for line in writes or ["pass"])
    exec(compile(src, f"<jute {cls.__name__}>", "exec"), env)  # noqa: S102 - generated from annotations
    cls.read = staticmethod(env["read"])
    cls.write = env["write"]


def _item_writer(w: Writer, item: Any) -> None:
    item.write(w)


def record(cls: type) -> type:
    """Turn a class with jute-typed annotations into a frozen slots dataclass with read/write/to_bytes."""
    dc = dataclasses.dataclass(frozen=True, slots=True)(cls)
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
