"""Jute primitives: big-endian ints and longs, booleans, length-prefixed buffers, strings and vectors.

`Reader` walks one frame; every length is checked against what is left in the frame before anything is
allocated, so a hostile length can never make us allocate more than the frame already holds (and the frame
itself was checked against jute.maxbuffer by the framer).
"""

from __future__ import annotations

import builtins
import struct
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol, TypeVar

from librt.strings import BytesWriter, read_i32_be, read_i64_be, write_i32_be

T = TypeVar("T")

INT: Final = struct.Struct(">i")
LONG: Final = struct.Struct(">q")
INT_INT: Final = struct.Struct(">ii")
INT_LONG_INT: Final = struct.Struct(">iqi")


class Record(Protocol):
    """What every jute record has: its own writer (records.py)."""

    def write(self, w: Writer, /) -> None: ...


class RecordType(Protocol):
    """A record class: its reader (a staticmethod) returns an instance."""

    def read(self, r: Reader, /) -> Any: ...


class JuteError(Exception):
    """The peer sent bytes that are not a valid record: close that connection, nothing else."""


class Reader:
    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None) -> None:
        # Always bytes (another buffer is copied once, here): the records' readers slice it and read its
        # fields with librt's readers, which take bytes; compiled, each is then a bounds check and a load.
        self.buf: bytes = buf if isinstance(buf, bytes) else bytes(buf)
        self.pos = pos
        self.end = len(buf) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def _need(self, n: int) -> int:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise JuteError(f"record truncated: need {n} bytes at offset {pos}, frame has {self.end}")
        self.pos = pos + n
        return pos

    def int(self) -> int:
        return read_i32_be(self.buf, self._need(4))

    def long(self) -> builtins.int:
        return read_i64_be(self.buf, self._need(8))

    def bool(self) -> bool:
        return self.buf[self._need(1)] != 0

    def _length(self) -> builtins.int:
        """A buffer's or string's length; -1 is null. Any other negative length is a malformed record, as
        BinaryInputArchive.checkLength rejects it (it is not another spelling of null)."""
        n = self.int()
        if n < -1:
            raise JuteError(f"unreasonable length {n} at offset {self.pos - 4}")
        return n

    def buffer(self) -> bytes | None:
        n = self._length()
        if n == -1:
            return None
        pos = self._need(n)
        return self.buf[pos : pos + n]

    def string(self) -> str | None:
        n = self._length()
        if n == -1:
            return None
        pos = self._need(n)
        try:
            return self.buf[pos : pos + n].decode()
        except UnicodeDecodeError as exc:
            raise JuteError(f"string at offset {pos} is not UTF-8") from exc

    def ustring(self) -> str:
        """A string that may not be null (a path, a scheme)."""
        s = self.string()
        return "" if s is None else s

    def vector(self, item: Callable[[Reader], T]) -> list[T] | None:
        n = self.int()
        if n == -1:
            return None
        if n < 0:
            return []  # BinaryIndex(n).done() at once: ZooKeeper reads an empty vector, not null
        if n > self.end - self.pos:  # every element takes at least one byte
            raise JuteError(f"vector of {n} elements at offset {self.pos} exceeds the frame")
        return [item(self) for _ in range(n)]

    def strings(self) -> list[str]:
        v = self.vector(Reader.ustring)
        return [] if v is None else v


class Writer:
    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int(self, v: int) -> None:
        self.parts.append(INT.pack(v))

    def long(self, v: builtins.int) -> None:
        self.parts.append(LONG.pack(v))

    def bool(self, v: bool) -> None:
        self.parts.append(b"\x01" if v else b"\x00")

    def raw(self, b: bytes) -> None:
        self.parts.append(b)

    def buffer(self, b: bytes | None) -> None:
        if b is None:
            self.parts.append(b"\xff\xff\xff\xff")
        else:
            self.parts.append(INT.pack(len(b)))
            self.parts.append(b)

    def string(self, s: str | None) -> None:
        self.buffer(None if s is None else s.encode("utf-8"))

    def vector(self, items: Iterable[T] | None, item: Callable[[Writer, T], None]) -> None:
        if items is None:
            self.parts.append(b"\xff\xff\xff\xff")
            return
        items = list(items)
        self.parts.append(INT.pack(len(items)))
        for x in items:
            item(self, x)

    def strings(self, items: Iterable[str] | None) -> None:
        self.vector(items, Writer.string)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def encode_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return INT.pack(len(b)) + b


def encode_buffer(b: bytes | None) -> bytes:
    if b is None:
        return b"\xff\xff\xff\xff"
    return INT.pack(len(b)) + b


def write_string(w: BytesWriter, s: str) -> None:
    """A ustring onto a librt BytesWriter (encode_string's bytes, without the intermediate parts)."""
    b = s.encode("utf-8")
    write_i32_be(w, len(b))
    w.write(b)


def write_buffer(w: BytesWriter, b: bytes | None) -> None:
    """A buffer onto a librt BytesWriter (encode_buffer's bytes: null is length -1)."""
    if b is None:
        write_i32_be(w, -1)
    else:
        write_i32_be(w, len(b))
        w.write(b)


def patch_i32_be(w: BytesWriter, at: int, n: int) -> None:
    """Overwrite the 4 bytes at `at` of `w` with `n`, big-endian: a length known only once what it counts is
    written (a multi's op body, a reply's frame)."""
    w[at] = (n >> 24) & 0xFF
    w[at + 1] = (n >> 16) & 0xFF
    w[at + 2] = (n >> 8) & 0xFF
    w[at + 3] = n & 0xFF
