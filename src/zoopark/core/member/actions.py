"""What a member is told and what it asks its executor to do.

Every action that touches the disk, a client or a peer carries `gen`, the incarnation of the role that
decided it. A role ends (deposed leader, lost follower, the end of read-only mode) by the machine moving to
a new generation; the executor refuses any action whose generation is not the machine's current one, so an
ended role cannot append to the log, reply to a client or accept a connection, by construction.
Disk completions come back as `Done(gen, item)`: the machine drops those of an ended role (their facts about
the disk are learnt again from the reload that starts every election).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jute.election import Notification
from ..jute.quorum import QuorumPacket
from ..tree.datatree import DataTree
from ..values import value
from ..zab.verifier import QuorumVerifier

Entry = tuple[int, bytes]


@dataclass(slots=True)
class Loaded:
    """What recovery found on disk: the state, the newest logged txns, the epochs."""

    tree: DataTree
    sessions: dict[int, int]
    last_zxid: int
    window: list[Entry] = field(default_factory=list)
    accepted_epoch: int = 0
    current_epoch: int = 0


# ---- inputs ------------------------------------------------------------------------------------------


@value
class VoteIn:
    sid: int
    notification: Notification


@value
class PacketIn:
    """A quorum packet (or ("snapshot", raw) after a SNAP) from peer `sid`."""

    sid: int
    packet: QuorumPacket | tuple[str, bytes]


@value
class PeerLost:
    sid: int


@value
class ClientConnect:
    conn: int
    remote_ip: str = "127.0.0.1"
    remote_port: int = 0
    nonce: bytes = b""  # fresh random bytes for the connection's SASL exchange (when SASL is configured)
    x509_subject: str | None = None  # the verified client certificate's subject (TLS)


@value
class ClientFrame:
    conn: int
    data: bytes


@value
class ClientGone:
    conn: int


@value
class Tick:
    pass


@value
class Done:
    """A disk write of role `gen` is durable: `item` is what had to wait for it (a zab input or a packet)."""

    gen: int
    item: object


@value
class LogFailed:
    """A log write of role `gen` failed (fsync error, full disk): it and everything queued after it are not
    durable, and nothing of them was acknowledged."""

    gen: int
    reason: str


@value
class RoleFailed:
    """The executor could not carry out what role `gen` needs (its quorum port cannot be bound, say): the
    role ends and the member elects again."""

    gen: int
    reason: str


@value
class PortOpened:
    gen: int


@value
class PortClosed:
    pass


@value
class Reloaded:
    """The answer to `Reload` or `Truncate`: the state as the disk holds it now."""

    gen: int
    loaded: Loaded


# ---- actions -----------------------------------------------------------------------------------------


@value
class SendVote:
    sid: int
    notification: Notification


@value
class SendPeer:
    gen: int
    sid: int
    packet: QuorumPacket | tuple[str, bytes]


@value
class DropPeer:
    gen: int
    sid: int
    reason: str


@value
class AppendLog:
    """Append to the txn log; once fsynced, step `Done(gen, item)` for each item of `then`."""

    gen: int
    entries: tuple[Entry, ...]
    then: tuple = ()


@value
class WriteEpoch:
    gen: int
    name: str  # "acceptedEpoch" | "currentEpoch"
    epoch: int
    then: tuple = ()


@value
class MarkUpdatingEpoch:
    """Create (`active`) or remove the updatingEpoch marker, durably, before any further input (see
    core/zab/learner.py for the order a sync writes in)."""

    gen: int
    active: bool


@value
class WriteSnapshot:
    """Write `raw` (a SNAP's sessions and tree) durably as the snapshot at `zxid`, then `then`."""

    gen: int
    raw: bytes
    zxid: int
    then: tuple = ()


@value
class Truncate:
    """Cut the log after `zxid`, after every queued write has finished; then step `Reloaded` at once,
    before any other input."""

    gen: int
    zxid: int


@value
class Reload:
    """Let queued writes finish, load the state from disk and step `Reloaded(gen, ...)`."""

    gen: int


@value
class ClientSend:
    gen: int
    conn: int
    data: bytes


@value
class ClientClose:
    """Close the connection; the executor steps `ClientGone` once it is closed."""

    gen: int
    conn: int
    reason: str


@value
class OpenPort:
    """Start accepting clients; step `PortOpened(gen)` once listening."""

    gen: int


@value
class ClosePort:
    """Stop accepting clients; step `PortClosed()` once the listener is gone."""

    gen: int


@value
class MoveClientPort:
    """A reconfig gave this member another client address (QuorumPeer.processReconfig, then
    ServerCnxnFactory.reconfigure): listen on host:port from now on, for the open port and every later one;
    connections already accepted stay. Not fenced: the address is the member's, not a role's."""

    host: str
    port: int


@value
class Note:
    level: str
    message: str


FENCED = (SendPeer, DropPeer, AppendLog, WriteEpoch, MarkUpdatingEpoch, WriteSnapshot, Truncate, Reload, ClientSend, ClientClose,
          OpenPort, ClosePort)


@value
class WriteConfig:
    """A configuration to keep (not fenced: it is true whichever role learnt it): the last one proposed
    (`activated` False: ZooKeeper's `.next` dynamic file) or the one now active (the dynamic file the static
    one points to). Durable before any further input, as ZooKeeper writes them synchronously; a member
    restarts with the active one, and the proposed one if newer."""

    config: QuorumVerifier
    activated: bool
