"""What a member is told and what it asks its executor to do.

Every action that touches the disk, a client or a peer carries `gen`, the incarnation of the role that
decided it. A role ends (deposed leader, lost follower, the end of read-only mode) by the machine moving to
a new generation; the executor refuses any action whose generation is not the machine's current one, so an
ended role cannot append to the log, reply to a client or accept a connection, by construction.
Disk completions come back as `Done(gen, item)`: the machine drops those of an ended role (their facts about
the disk are learnt again from the reload that starts every election).

The values are final slots dataclasses with Final fields and a written-out `__init__`, as server/actions.py's
are, so that mypyc compiles them natively (see core/values.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, final

from ..jute.election import Notification
from ..jute.quorum import QuorumPacket
from ..tree.datatree import DataTree
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


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class VoteIn:
    sid: Final[int]
    notification: Final[Notification]

    def __init__(self, sid: int, notification: Notification) -> None:
        self.sid = sid
        self.notification = notification


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PacketIn:
    """A quorum packet (or ("snapshot", raw) after a SNAP) from peer `sid`."""

    sid: Final[int]
    packet: Final[QuorumPacket | tuple[str, bytes]]

    def __init__(self, sid: int, packet: QuorumPacket | tuple[str, bytes]) -> None:
        self.sid = sid
        self.packet = packet


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PeerLost:
    sid: Final[int]

    def __init__(self, sid: int) -> None:
        self.sid = sid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientConnect:
    conn: Final[int]
    remote_ip: Final[str]
    remote_port: Final[int]
    nonce: Final[bytes]  # fresh random bytes for the connection's SASL exchange (when SASL is configured)
    x509_subject: Final[str | None]  # the verified client certificate's subject (TLS)

    def __init__(self, conn: int, remote_ip: str = "127.0.0.1", remote_port: int = 0, nonce: bytes = b"", x509_subject: str | None = None) -> None:
        self.conn = conn
        self.remote_ip = remote_ip
        self.remote_port = remote_port
        self.nonce = nonce
        self.x509_subject = x509_subject


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientFrame:
    conn: Final[int]
    data: Final[bytes]

    def __init__(self, conn: int, data: bytes) -> None:
        self.conn = conn
        self.data = data


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientGone:
    conn: Final[int]

    def __init__(self, conn: int) -> None:
        self.conn = conn


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Tick:
    pass


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Done:
    """A disk write of role `gen` is durable: `item` is what had to wait for it (a zab input or a packet)."""

    gen: Final[int]
    item: Final[object]

    def __init__(self, gen: int, item: object) -> None:
        self.gen = gen
        self.item = item


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class LogFailed:
    """A log write of role `gen` failed (fsync error, full disk): it and everything queued after it are not
    durable, and nothing of them was acknowledged."""

    gen: Final[int]
    reason: Final[str]

    def __init__(self, gen: int, reason: str) -> None:
        self.gen = gen
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class RoleFailed:
    """The executor could not carry out what role `gen` needs (its quorum port cannot be bound, say): the
    role ends and the member elects again."""

    gen: Final[int]
    reason: Final[str]

    def __init__(self, gen: int, reason: str) -> None:
        self.gen = gen
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PortOpened:
    gen: Final[int]

    def __init__(self, gen: int) -> None:
        self.gen = gen


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class PortClosed:
    pass


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Reloaded:
    """The answer to `Reload` or `Truncate`: the state as the disk holds it now."""

    gen: Final[int]
    loaded: Final[Loaded]

    def __init__(self, gen: int, loaded: Loaded) -> None:
        self.gen = gen
        self.loaded = loaded


# ---- actions -----------------------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SendVote:
    sid: Final[int]
    notification: Final[Notification]

    def __init__(self, sid: int, notification: Notification) -> None:
        self.sid = sid
        self.notification = notification


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SendPeer:
    gen: Final[int]
    sid: Final[int]
    packet: Final[QuorumPacket | tuple[str, bytes]]

    def __init__(self, gen: int, sid: int, packet: QuorumPacket | tuple[str, bytes]) -> None:
        self.gen = gen
        self.sid = sid
        self.packet = packet


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class DropPeer:
    gen: Final[int]
    sid: Final[int]
    reason: Final[str]

    def __init__(self, gen: int, sid: int, reason: str) -> None:
        self.gen = gen
        self.sid = sid
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class AppendLog:
    """Append to the txn log; once fsynced, step `Done(gen, item)` for each item of `then`."""

    gen: Final[int]
    entries: Final[tuple[Entry, ...]]
    then: Final[tuple[object, ...]]

    def __init__(self, gen: int, entries: tuple[Entry, ...], then: tuple[object, ...] = ()) -> None:
        self.gen = gen
        self.entries = entries
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class WriteEpoch:
    gen: Final[int]
    name: Final[str]  # "acceptedEpoch" | "currentEpoch"
    epoch: Final[int]
    then: Final[tuple[object, ...]]

    def __init__(self, gen: int, name: str, epoch: int, then: tuple[object, ...] = ()) -> None:
        self.gen = gen
        self.name = name
        self.epoch = epoch
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class MarkUpdatingEpoch:
    """Create (`active`) or remove the updatingEpoch marker, durably, before any further input (see
    core/zab/learner.py for the order a sync writes in)."""

    gen: Final[int]
    active: Final[bool]

    def __init__(self, gen: int, active: bool) -> None:
        self.gen = gen
        self.active = active


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class WriteSnapshot:
    """Write `raw` (a SNAP's sessions and tree) durably as the snapshot at `zxid`, then `then`."""

    gen: Final[int]
    raw: Final[bytes]
    zxid: Final[int]
    then: Final[tuple[object, ...]]

    def __init__(self, gen: int, raw: bytes, zxid: int, then: tuple[object, ...] = ()) -> None:
        self.gen = gen
        self.raw = raw
        self.zxid = zxid
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Truncate:
    """Cut the log after `zxid`, after every queued write has finished; then step `Reloaded` at once,
    before any other input."""

    gen: Final[int]
    zxid: Final[int]

    def __init__(self, gen: int, zxid: int) -> None:
        self.gen = gen
        self.zxid = zxid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Reload:
    """Let queued writes finish, load the state from disk and step `Reloaded(gen, ...)`."""

    gen: Final[int]

    def __init__(self, gen: int) -> None:
        self.gen = gen


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientSend:
    gen: Final[int]
    conn: Final[int]
    data: Final[bytes]

    def __init__(self, gen: int, conn: int, data: bytes) -> None:
        self.gen = gen
        self.conn = conn
        self.data = data


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClientClose:
    """Close the connection; the executor steps `ClientGone` once it is closed."""

    gen: Final[int]
    conn: Final[int]
    reason: Final[str]

    def __init__(self, gen: int, conn: int, reason: str) -> None:
        self.gen = gen
        self.conn = conn
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class OpenPort:
    """Start accepting clients; step `PortOpened(gen)` once listening."""

    gen: Final[int]

    def __init__(self, gen: int) -> None:
        self.gen = gen


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class ClosePort:
    """Stop accepting clients; step `PortClosed()` once the listener is gone."""

    gen: Final[int]

    def __init__(self, gen: int) -> None:
        self.gen = gen


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class MoveClientPort:
    """A reconfig gave this member another client address (QuorumPeer.processReconfig, then
    ServerCnxnFactory.reconfigure): listen on host:port from now on, for the open port and every later one;
    connections already accepted stay. Not fenced: the address is the member's, not a role's."""

    host: Final[str]
    port: Final[int]

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Note:
    level: Final[str]
    message: Final[str]

    def __init__(self, level: str, message: str) -> None:
        self.level = level
        self.message = message


FENCED = (SendPeer, DropPeer, AppendLog, WriteEpoch, MarkUpdatingEpoch, WriteSnapshot, Truncate, Reload, ClientSend, ClientClose,
          OpenPort, ClosePort)


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class WriteConfig:
    """A configuration to keep (not fenced: it is true whichever role learnt it): the last one proposed
    (`activated` False: ZooKeeper's `.next` dynamic file) or the one now active (the dynamic file the static
    one points to). Durable before any further input, as ZooKeeper writes them synchronously; a member
    restarts with the active one, and the proposed one if newer."""

    config: Final[QuorumVerifier]
    activated: Final[bool]

    def __init__(self, config: QuorumVerifier, activated: bool) -> None:
        self.config = config
        self.activated = activated
