"""QuorumAuthPacket: the records of quorum SASL (zookeeper.jute), as ZooKeeper 3.8's QuorumAuth writes them.

    long magic (QUORUM_AUTH_MAGIC_NUMBER), int status, buffer token (int length, -1 for null, then the bytes)

with no length prefix, on the election port right after a dialler's initial message and on the quorum port before
the learner's first QuorumPacket. A listener tells an authenticating peer from one that is not by the first 8
bytes (QuorumAuth.nextPacketIsAuth). ZooKeeper's source calls its magic negative, but the literal
`-0xa0dbcafecafe1234L` is the negation of a long that has already wrapped to a negative value: on the wire it is
the positive 0x5F2435013501EDCC (an election message starts with a small int length, a QuorumPacket with a small
int type, so neither can be mistaken for it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

# QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER: Java's -0xa0dbcafecafe1234L, computed in 64-bit two's complement
MAGIC = (-0xA0DBCAFECAFE1234) % (1 << 64)
assert MAGIC == 0x5F2435013501EDCC
TOKEN_MAX_BYTES = 64 * 1024  # a DIGEST-MD5 token is at most 4 KiB (RFC 2831); this bounds the buffer we wait for
_HEAD = struct.Struct(">qii")
MAGIC_BYTES = struct.pack(">q", MAGIC)


class AuthStatus(IntEnum):
    """QuorumAuth.Status."""
    IN_PROGRESS = 0
    SUCCESS = 1
    ERROR = -1


class QuorumAuthWireError(Exception):
    """Bytes that are not a QuorumAuthPacket; the stream cannot be followed after them."""


@dataclass(frozen=True, slots=True)
class QuorumAuthPacket:
    status: int
    token: bytes | None  # None: jute's null buffer (length -1)
    magic: int = MAGIC

    def encode(self) -> bytes:
        if self.token is None:
            return _HEAD.pack(self.magic, self.status, -1)
        return _HEAD.pack(self.magic, self.status, len(self.token)) + self.token


def starts_with_magic(data: bytes) -> bool | None:
    """Whether `data` begins with the magic (QuorumAuth.nextPacketIsAuth), or None while under 8 bytes."""
    if len(data) < len(MAGIC_BYTES):
        return None
    return data[: len(MAGIC_BYTES)] == MAGIC_BYTES


def parse(data: bytes | bytearray, offset: int = 0) -> tuple[QuorumAuthPacket, int] | None:
    """The packet at `offset` and the offset after it, or None while it is incomplete. A token length below -1
    or above TOKEN_MAX_BYTES raises QuorumAuthWireError (as jute.maxbuffer makes ZooKeeper's deserializer
    throw); the magic is not checked here (ZooKeeper's receive does not either)."""
    if len(data) - offset < _HEAD.size:
        return None
    magic, status, n = _HEAD.unpack_from(data, offset)
    if n < -1 or n > TOKEN_MAX_BYTES:
        raise QuorumAuthWireError(f"quorum auth token length {n} out of range")
    end = offset + _HEAD.size + max(n, 0)
    if len(data) < end:
        return None
    token = None if n == -1 else bytes(data[offset + _HEAD.size : end])
    return QuorumAuthPacket(status, token, magic), end
