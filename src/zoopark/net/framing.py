"""Length-prefixed frames of the client port, sans I/O: bytes in, frames out, bad lengths refused."""

from __future__ import annotations

import struct

_LEN = struct.Struct(">i")


class FrameError(Exception):
    """The peer sent a length we refuse (negative or over jute.maxbuffer): close that connection."""


class FrameDecoder:
    __slots__ = ("max_bytes", "_buf")

    def __init__(self, max_bytes: int) -> None:
        assert max_bytes > 0
        self.max_bytes = max_bytes
        self._buf = bytearray()

    def peek_first_word(self) -> bytes | None:
        return bytes(self._buf[:4]) if len(self._buf) >= 4 else None

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        if not buf and len(data) >= 4:
            # Fast path: whole frames straight from the socket's bytes, no copy into the buffer; most reads
            # are one whole request (a client waiting for each reply, a connect storm's every read).
            (n,) = _LEN.unpack_from(data)
            if n == len(data) - 4 and n <= self.max_bytes:
                return [bytes(data[4:])]
            frames, pos = self._split(data)
            if pos < len(data):
                buf += data[pos:]
            return frames
        buf += data
        frames, pos = self._split(buf)
        if pos:
            del buf[:pos]
        return frames

    def _split(self, data) -> tuple[list[bytes], int]:
        frames: list[bytes] = []
        pos, end = 0, len(data)
        while end - pos >= 4:
            (n,) = _LEN.unpack_from(data, pos)
            if n < 0 or n > self.max_bytes:
                raise FrameError(f"frame length {n} is outside 0..{self.max_bytes} (jute.maxbuffer)")
            if end - pos - 4 < n:
                break
            frames.append(bytes(data[pos + 4 : pos + 4 + n]))
            pos += 4 + n
        return frames, pos

    def buffered(self) -> int:
        return len(self._buf)
