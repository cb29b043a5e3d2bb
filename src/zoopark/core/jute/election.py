"""Leader election's wire format (ZooKeeper 3.8's QuorumCnxManager and FastLeaderElection).

A connection to a peer's election port opens with the initial message:
    long  protocol version (-65536: one address; -65535: several, joined by "|")
    long  the connecting server's id
    int   length, then "host:port" of its election address (at most 2048 bytes)
(a non-negative first long is an id from a pre-3.5 server, with nothing after it). Only the higher id keeps
a connection: a server accepting one from a lower id closes it and connects back.

Every message after that is an int length (1..512 KiB) and a notification:
    int state (0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING), long leader, long zxid, long election epoch,
    long peer epoch, int version (2), int config length, config bytes (the sender's ensemble, QuorumMaj text)
Older servers sent 28 bytes (no peer epoch, no version) or 40 (no version); both are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

PROTOCOL_VERSION_V1 = -65536
PROTOCOL_VERSION_V2 = -65535
MAX_ADDRESS_BYTES = 2048
MAX_MESSAGE_BYTES = 512 * 1024
NOTIFICATION_VERSION = 2
_INITIAL = struct.Struct(">qqi")
_NOTIFICATION = struct.Struct(">iqqqqii")
_OLD28 = struct.Struct(">iqqq")
_OLD40 = struct.Struct(">iqqqq")


class PeerState(IntEnum):
    LOOKING = 0
    FOLLOWING = 1
    LEADING = 2
    OBSERVING = 3


class ElectionWireError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class InitialMessage:
    sid: int
    address: str  # "host:port", or several joined by "|"
    protocol: int = PROTOCOL_VERSION_V1

    def encode(self) -> bytes:
        addr = self.address.encode()
        return _INITIAL.pack(self.protocol, self.sid, len(addr)) + addr


def parse_initial(data: bytes) -> tuple[InitialMessage, int] | None:
    """The initial message at the start of `data` and its length, or None while it is incomplete."""
    if len(data) < 8:
        return None
    (first,) = struct.unpack_from(">q", data, 0)
    if first >= 0:
        return InitialMessage(first, "", first), 8  # a pre-3.5 server: just its id
    if first not in (PROTOCOL_VERSION_V1, PROTOCOL_VERSION_V2):
        raise ElectionWireError(f"unknown election protocol version {first}")
    if len(data) < _INITIAL.size:
        return None
    _, sid, n = _INITIAL.unpack_from(data, 0)
    if n <= 0 or n > MAX_ADDRESS_BYTES:
        raise ElectionWireError(f"initial message address length {n} out of range")
    if len(data) < _INITIAL.size + n:
        return None
    try:
        addr = data[_INITIAL.size : _INITIAL.size + n].decode()
    except UnicodeDecodeError as e:
        raise ElectionWireError("initial message address is not text") from e
    return InitialMessage(sid, addr, first), _INITIAL.size + n


@dataclass(frozen=True, slots=True)
class Notification:
    state: PeerState
    leader: int
    zxid: int
    election_epoch: int
    peer_epoch: int
    version: int = NOTIFICATION_VERSION
    config: bytes = b""

    def encode(self) -> bytes:
        return _NOTIFICATION.pack(int(self.state), self.leader, self.zxid, self.election_epoch, self.peer_epoch,
                                  self.version, len(self.config)) + self.config

    @staticmethod
    def decode(data: bytes) -> Notification:
        n = len(data)
        if n < _OLD28.size:
            raise ElectionWireError(f"notification of {n} bytes is too short")
        if n == _OLD28.size:
            state, leader, zxid, epoch = _OLD28.unpack(data)
            peer_epoch, version, config = zxid >> 32, 0, b""
        elif n == _OLD40.size:
            state, leader, zxid, epoch, peer_epoch = _OLD40.unpack(data)
            version, config = 0, b""
        else:
            if n < _NOTIFICATION.size - 4:
                raise ElectionWireError(f"notification of {n} bytes is malformed")
            state, leader, zxid, epoch, peer_epoch, version = struct.unpack_from(">iqqqqi", data, 0)
            config = b""
            if version > 1:
                if n < _NOTIFICATION.size:
                    raise ElectionWireError("notification has no config length")
                (clen,) = struct.unpack_from(">i", data, _NOTIFICATION.size - 4)
                if clen < 0 or _NOTIFICATION.size + clen > n:
                    raise ElectionWireError(f"notification config length {clen} out of range")
                config = bytes(data[_NOTIFICATION.size : _NOTIFICATION.size + clen])
        try:
            st = PeerState(state)
        except ValueError:
            raise ElectionWireError(f"unknown peer state {state}") from None
        return Notification(st, leader, zxid, epoch, peer_epoch, version, config)
