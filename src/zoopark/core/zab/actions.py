"""What the ZAB cores ask of their adapter. Txns are opaque here: (zxid, bytes) as the txn log holds them.

Durability rides on the data: `Append`, `InstallSnapshot` and `PersistEpoch` carry `then`, the inputs (or
packets) that may only happen after the fsync; the adapter releases them once the disk has the data.

The values are final slots dataclasses with Final fields and a written-out `__init__`, as server/actions.py's
are, so that mypyc compiles them natively (see core/values.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, final

from ..jute.quorum import QuorumPacket
from .verifier import QuorumVerifier

Entry = tuple[int, bytes]  # (zxid, the txn: TxnHeader + record, as in the log)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ToPeer:
    """Send a packet to a peer (in order per peer: one FIFO queue each)."""

    sid: Final[int]
    packet: Final[QuorumPacket | tuple[str, bytes]]  # ("snapshot", raw) right after a SNAP packet

    def __init__(self, sid: int, packet: QuorumPacket | tuple[str, bytes]) -> None:
        self.sid = sid
        self.packet = packet


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PingReply:
    """Answer the leader's PING: the adapter adds the sessions its clients keep alive (ZooKeeper's followers
    report them so, and the leader, which expires sessions, touches them)."""

    leader: Final[int]
    zxid: Final[int]

    def __init__(self, leader: int, zxid: int) -> None:
        self.leader = leader
        self.zxid = zxid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClosePeer:
    """Close the quorum connection with `sid` (the peer will have to reconnect and start over)."""

    sid: Final[int]
    reason: Final[str]

    def __init__(self, sid: int, reason: str) -> None:
        self.sid = sid
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Append:
    """Write txns to the log; after the fsync, feed `then` back as inputs (`Synced` and/or packets)."""

    entries: Final[list[Entry]]
    then: Final[tuple[object, ...]]

    def __init__(self, entries: list[Entry], then: tuple[object, ...] = ()) -> None:
        self.entries = entries
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Truncate:
    """Cut the log after `zxid` (TRUNC). Synchronous for the core: the adapter does it before any further
    input; nothing after `zxid` may be read back."""

    zxid: Final[int]

    def __init__(self, zxid: int) -> None:
        self.zxid = zxid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class InstallSnapshot:
    """Replace the state with the leader's (SNAP), write it durably as a snapshot at `zxid`, then `then`."""

    raw: Final[bytes]
    zxid: Final[int]
    then: Final[tuple[object, ...]]

    def __init__(self, raw: bytes, zxid: int, then: tuple[object, ...] = ()) -> None:
        self.raw = raw
        self.zxid = zxid
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PersistEpoch:
    """Write acceptedEpoch or currentEpoch (atomically, fsynced), then `then`."""

    name: Final[str]  # "acceptedEpoch" | "currentEpoch"
    epoch: Final[int]
    then: Final[tuple[object, ...]]

    def __init__(self, name: str, epoch: int, then: tuple[object, ...] = ()) -> None:
        self.name = name
        self.epoch = epoch
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class UpdatingEpoch:
    """Create (`active`) or remove the `updatingEpoch` marker beside currentEpoch, durably, before any further
    input. A learner raises it before the first write of a sync and lowers it once the new currentEpoch is on
    disk: while it exists, a log or snapshot of a later epoch than currentEpoch is a sync cut short between
    the two writes, and recovery takes the epoch from the last zxid (as ZooKeeper's loadDataBase does)."""

    active: Final[bool]

    def __init__(self, active: bool) -> None:
        self.active = active


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Deliver:
    """Committed, in zxid order: apply the txn to the state."""

    zxid: Final[int]
    txn: Final[bytes]

    def __init__(self, zxid: int, txn: bytes) -> None:
        self.zxid = zxid
        self.txn = txn


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class RoleChanged:
    """LOOKING / LEADING / FOLLOWING, with the epoch once established (serving: the leader has a quorum
    synced, or the follower got UPTODATE)."""

    role: Final[str]
    leader: Final[int | None]
    epoch: Final[int | None]
    serving: Final[bool]
    reason: Final[str]

    def __init__(self, role: str, leader: int | None = None, epoch: int | None = None, serving: bool = False, reason: str = "") -> None:
        self.role = role
        self.leader = leader
        self.epoch = epoch
        self.serving = serving
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Synced:
    """Input: the log holds everything up to `zxid` durably."""

    zxid: Final[int]

    def __init__(self, zxid: int) -> None:
        self.zxid = zxid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class EpochPersisted:
    name: Final[str]
    epoch: Final[int]

    def __init__(self, name: str, epoch: int) -> None:
        self.name = name
        self.epoch = epoch


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SnapshotInstalled:
    zxid: Final[int]

    def __init__(self, zxid: int) -> None:
        self.zxid = zxid


@dataclass(slots=True)
class Persistent:
    """What a peer knows of its own disk at start (from recovery)."""

    accepted_epoch: int = 0
    current_epoch: int = 0
    last_zxid: int = 0
    window: list[Entry] = field(default_factory=list)  # the newest logged txns (ZooKeeper's committedLog)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SeenConfig:
    """A configuration was proposed (a reconfig's PROPOSAL, the one NEWLEADER carries): the last one seen
    (ZooKeeper's setLastSeenQuorumVerifier, written as the `.next` dynamic file)."""

    config: Final[QuorumVerifier]

    def __init__(self, config: QuorumVerifier) -> None:
        self.config = config


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Activated:
    """A configuration is active from now on (a reconfig committed: COMMITANDACTIVATE / INFORMANDACTIVATE,
    NEWLEADER's at UPTODATE, a newer one in an election notification). `designated`: the leader the
    committing leader named (None: elect one)."""

    config: Final[QuorumVerifier]
    designated: Final[int | None]

    def __init__(self, config: QuorumVerifier, designated: int | None = None) -> None:
        self.config = config
        self.designated = designated
