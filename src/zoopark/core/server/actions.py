"""What the core is told (inputs) and what it asks the runtime to do (actions).

All are plain frozen records. The runtime executes actions in the order given; what must wait for an fsync
rides inside `AppendLog.then` and is released only after the entries are on disk.
"""

from __future__ import annotations

from dataclasses import field

from ..jute.records import TxnHeader
from ..values import value

# ---- inputs ----------------------------------------------------------------------------------


@value
class Connected:
    conn: int
    remote_ip: str
    remote_port: int = 0
    nonce: bytes = b""  # fresh random bytes for this connection's SASL exchange (when SASL is configured)
    # The subject (as Java's X500Principal.getName() prints it) of the client certificate a TLS handshake
    # verified; None on a plain connection or when the client sent none.
    x509_subject: str | None = None


@value
class Frame:
    """One length-delimited frame from a client connection (the length prefix already removed)."""

    conn: int
    data: bytes


@value
class Disconnected:
    conn: int


@value
class Tick:
    pass


@value
class LogSynced:
    """Every txn up to and including `zxid` is on disk."""

    zxid: int


@value
class LogFailed:
    """The disk refused entries up to `zxid` (full disk, failed fsync): they must not be acknowledged."""

    zxid: int
    reason: str


# ---- actions ---------------------------------------------------------------------------------


@value
class Send:
    conn: int
    data: bytes  # one or more complete frames, length prefixes included


@value
class Close:
    conn: int
    reason: str


@value
class AppendLog:
    """Append (zxid, entry) pairs to the txn log; after they are synced, run `then` (inputs fed back)."""

    entries: tuple[tuple[int, bytes], ...]
    then: tuple[object, ...] = field(default=())


@value
class Remote:
    """An ensemble's leader: a request a learner forwarded (QuorumPacket REQUEST) for one of its clients.
    Only writes, createSession and closeSession come this way; the learner answers its client itself."""

    session: int
    cxid: int
    op: int
    body: bytes
    auth: tuple = ()
    owner: int | None = None  # the learner's server id: a session served elsewhere gets SESSIONMOVED


@value
class Touch:
    """An ensemble's leader: a learner's PING listed these sessions (id, timeout) as active."""

    sessions: tuple[tuple[int, int], ...]


@value
class Committed:
    """An ensemble's follower: the leader committed this txn (delivered in zxid order)."""

    hdr: TxnHeader
    txn: object


@value
class SyncDone:
    """An ensemble's follower: the leader answered the oldest forwarded sync."""


@value
class Revalidated:
    """An ensemble's follower: the leader's answer to a `Revalidate` (is the session still alive?)."""

    session: int
    valid: bool


@value
class Revalidate:
    """An ensemble's follower: a client reconnects with this session; ask the leader (a QuorumPacket
    REVALIDATE) before answering it, as ZooKeeper's learners do."""

    session: int
    timeout_ms: int


@value
class Forward:
    """An ensemble's follower: send this client request to the leader (a QuorumPacket REQUEST)."""

    session: int
    cxid: int
    op: int
    body: bytes
    auth: tuple = ()


@value
class Propose:
    """In an ensemble's leader: order this txn through ZAB (instead of AppendLog). Its commit comes back as
    `LogSynced(zxid)`, which in replicated mode means "a quorum has it"."""

    zxid: int
    entry: bytes


@value
class Log:
    level: str  # "debug" | "info" | "warning" | "error"
    message: str
    session: int | None = None  # the session the line is about, for structured logs
    zxid: int | None = None


Input = Connected | Frame | Disconnected | Tick | LogSynced | LogFailed
Action = Send | Close | AppendLog | Log | Forward | Revalidate | Propose
