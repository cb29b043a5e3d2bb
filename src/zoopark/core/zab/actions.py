"""What the ZAB cores ask of their adapter. Txns are opaque here: (zxid, bytes) as the txn log holds them.

Durability rides on the data: `Append`, `InstallSnapshot` and `PersistEpoch` carry `then`, the inputs (or
packets) that may only happen after the fsync; the adapter releases them once the disk has the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jute.quorum import QuorumPacket
from ..values import value
from .verifier import QuorumVerifier

Entry = tuple[int, bytes]  # (zxid, the txn: TxnHeader + record, as in the log)


@value
class ToPeer:
    """Send a packet to a peer (in order per peer: one FIFO queue each)."""

    sid: int
    packet: QuorumPacket | tuple[str, bytes]  # ("snapshot", raw) right after a SNAP packet


@value
class PingReply:
    """Answer the leader's PING: the adapter adds the sessions its clients keep alive (ZooKeeper's followers
    report them so, and the leader, which expires sessions, touches them)."""

    leader: int
    zxid: int


@value
class ClosePeer:
    """Close the quorum connection with `sid` (the peer will have to reconnect and start over)."""

    sid: int
    reason: str


@value
class Append:
    """Write txns to the log; after the fsync, feed `then` back as inputs (`Synced` and/or packets)."""

    entries: list[Entry]
    then: tuple = ()


@value
class Truncate:
    """Cut the log after `zxid` (TRUNC). Synchronous for the core: the adapter does it before any further
    input; nothing after `zxid` may be read back."""

    zxid: int


@value
class InstallSnapshot:
    """Replace the state with the leader's (SNAP), write it durably as a snapshot at `zxid`, then `then`."""

    raw: bytes
    zxid: int
    then: tuple = ()


@value
class PersistEpoch:
    """Write acceptedEpoch or currentEpoch (atomically, fsynced), then `then`."""

    name: str  # "acceptedEpoch" | "currentEpoch"
    epoch: int
    then: tuple = ()


@value
class UpdatingEpoch:
    """Create (`active`) or remove the `updatingEpoch` marker beside currentEpoch, durably, before any further
    input. A learner raises it before the first write of a sync and lowers it once the new currentEpoch is on
    disk: while it exists, a log or snapshot of a later epoch than currentEpoch is a sync cut short between
    the two writes, and recovery takes the epoch from the last zxid (as ZooKeeper's loadDataBase does)."""

    active: bool


@value
class Deliver:
    """Committed, in zxid order: apply the txn to the state."""

    zxid: int
    txn: bytes


@value
class RoleChanged:
    """LOOKING / LEADING / FOLLOWING, with the epoch once established (serving: the leader has a quorum
    synced, or the follower got UPTODATE)."""

    role: str
    leader: int | None = None
    epoch: int | None = None
    serving: bool = False
    reason: str = ""


@value
class Synced:
    """Input: the log holds everything up to `zxid` durably."""

    zxid: int


@value
class EpochPersisted:
    name: str
    epoch: int


@value
class SnapshotInstalled:
    zxid: int


@dataclass(slots=True)
class Persistent:
    """What a peer knows of its own disk at start (from recovery)."""

    accepted_epoch: int = 0
    current_epoch: int = 0
    last_zxid: int = 0
    window: list[Entry] = field(default_factory=list)  # the newest logged txns (ZooKeeper's committedLog)


@value
class SeenConfig:
    """A configuration was proposed (a reconfig's PROPOSAL, the one NEWLEADER carries): the last one seen
    (ZooKeeper's setLastSeenQuorumVerifier, written as the `.next` dynamic file)."""

    config: QuorumVerifier


@value
class Activated:
    """A configuration is active from now on (a reconfig committed: COMMITANDACTIVATE / INFORMANDACTIVATE,
    NEWLEADER's at UPTODATE, a newer one in an election notification). `designated`: the leader the
    committing leader named (None: elect one)."""

    config: QuorumVerifier
    designated: int | None = None
