"""What the core is told (inputs) and what it asks the runtime to do (actions).

All are immutable values. The runtime executes actions in the order given; what must wait for an fsync
rides inside `AppendLog.then` and is released only after the entries are on disk.

Each is a final slots dataclass with Final fields (mypy rejects an assignment; compiled, the attributes are
read-only) and its `__init__` written out, as the jute records are: mypyc compiles these classes natively and
a written-out `__init__` with them, where a dataclass-made one would stay interpreted (see core/values.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from ..jute.records import TxnHeader

# ---- inputs ----------------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Connected:
    conn: Final[int]
    remote_ip: Final[str]
    remote_port: Final[int]
    nonce: Final[bytes]  # fresh random bytes for this connection's SASL exchange (when SASL is configured)
    # The subject (as Java's X500Principal.getName() prints it) of the client certificate a TLS handshake
    # verified; None on a plain connection or when the client sent none.
    x509_subject: Final[str | None]

    def __init__(self, conn: int, remote_ip: str, remote_port: int = 0, nonce: bytes = b"",
                 x509_subject: str | None = None) -> None:
        self.conn = conn
        self.remote_ip = remote_ip
        self.remote_port = remote_port
        self.nonce = nonce
        self.x509_subject = x509_subject


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Frame:
    """One length-delimited frame from a client connection (the length prefix already removed)."""

    conn: Final[int]
    data: Final[bytes]

    def __init__(self, conn: int, data: bytes) -> None:
        self.conn = conn
        self.data = data


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Disconnected:
    conn: Final[int]

    def __init__(self, conn: int) -> None:
        self.conn = conn


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Tick:
    pass


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class LogSynced:
    """Every txn up to and including `zxid` is on disk."""

    zxid: Final[int]

    def __init__(self, zxid: int) -> None:
        self.zxid = zxid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class LogFailed:
    """The disk refused entries up to `zxid` (full disk, failed fsync): they must not be acknowledged."""

    zxid: Final[int]
    reason: Final[str]

    def __init__(self, zxid: int, reason: str) -> None:
        self.zxid = zxid
        self.reason = reason


# ---- actions ---------------------------------------------------------------------------------


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Send:
    conn: Final[int]
    data: Final[bytes]  # one or more complete frames, length prefixes included

    def __init__(self, conn: int, data: bytes) -> None:
        self.conn = conn
        self.data = data


# The reason of the Close that ends a session the client closed itself: routine (adapters log it quietly, as
# ZooKeeper 3.8 logs its "Closed socket connection" at DEBUG).
CLIENT_CLOSED: Final = "client closed the session"


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Close:
    conn: Final[int]
    reason: Final[str]

    def __init__(self, conn: int, reason: str) -> None:
        self.conn = conn
        self.reason = reason


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class AppendLog:
    """Append (zxid, entry) pairs to the txn log; after they are synced, run `then` (inputs fed back)."""

    entries: Final[tuple[tuple[int, bytes], ...]]
    then: Final[tuple[object, ...]]

    def __init__(self, entries: tuple[tuple[int, bytes], ...], then: tuple[object, ...] = ()) -> None:
        self.entries = entries
        self.then = then


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Remote:
    """An ensemble's leader: a request a learner forwarded (QuorumPacket REQUEST) for one of its clients.
    Only writes, createSession and closeSession come this way; the learner answers its client itself."""

    session: Final[int]
    cxid: Final[int]
    op: Final[int]
    body: Final[bytes]
    auth: Final[tuple]
    owner: Final[int | None]  # the learner's server id: a session served elsewhere gets SESSIONMOVED

    def __init__(self, session: int, cxid: int, op: int, body: bytes, auth: tuple = (),
                 owner: int | None = None) -> None:
        self.session = session
        self.cxid = cxid
        self.op = op
        self.body = body
        self.auth = auth
        self.owner = owner


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Touch:
    """An ensemble's leader: a learner's PING listed these sessions (id, timeout) as active."""

    sessions: Final[tuple[tuple[int, int], ...]]

    def __init__(self, sessions: tuple[tuple[int, int], ...]) -> None:
        self.sessions = sessions


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Committed:
    """An ensemble's follower: the leader committed this txn (delivered in zxid order)."""

    hdr: Final[TxnHeader]
    txn: Final[object]

    def __init__(self, hdr: TxnHeader, txn: object) -> None:
        self.hdr = hdr
        self.txn = txn


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class SyncDone:
    """An ensemble's follower: the leader answered the oldest forwarded sync."""


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Revalidated:
    """An ensemble's follower: the leader's answer to a `Revalidate` (is the session still alive?)."""

    session: Final[int]
    valid: Final[bool]

    def __init__(self, session: int, valid: bool) -> None:
        self.session = session
        self.valid = valid


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Revalidate:
    """An ensemble's follower: a client reconnects with this session; ask the leader (a QuorumPacket
    REVALIDATE) before answering it, as ZooKeeper's learners do."""

    session: Final[int]
    timeout_ms: Final[int]

    def __init__(self, session: int, timeout_ms: int) -> None:
        self.session = session
        self.timeout_ms = timeout_ms


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Forward:
    """An ensemble's follower: send this client request to the leader (a QuorumPacket REQUEST)."""

    session: Final[int]
    cxid: Final[int]
    op: Final[int]
    body: Final[bytes]
    auth: Final[tuple]

    def __init__(self, session: int, cxid: int, op: int, body: bytes, auth: tuple = ()) -> None:
        self.session = session
        self.cxid = cxid
        self.op = op
        self.body = body
        self.auth = auth


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Propose:
    """In an ensemble's leader: order this txn through ZAB (instead of AppendLog). Its commit comes back as
    `LogSynced(zxid)`, which in replicated mode means "a quorum has it"."""

    zxid: Final[int]
    entry: Final[bytes]

    def __init__(self, zxid: int, entry: bytes) -> None:
        self.zxid = zxid
        self.entry = entry


@final
@dataclass(init=False, unsafe_hash=True, slots=True)
class Log:
    level: Final[str]  # "debug" | "info" | "warning" | "error"
    message: Final[str]
    session: Final[int | None]  # the session the line is about, for structured logs
    zxid: Final[int | None]

    def __init__(self, level: str, message: str, session: int | None = None, zxid: int | None = None) -> None:
        self.level = level
        self.message = message
        self.session = session
        self.zxid = zxid


Input = Connected | Frame | Disconnected | Tick | LogSynced | LogFailed
Action = Send | Close | AppendLog | Log | Forward | Revalidate | Propose
