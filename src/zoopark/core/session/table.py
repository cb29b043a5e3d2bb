"""The session table with ZooKeeper's ExpiryQueue: sessions expire at tick-aligned bucket boundaries.

Passwords are ZooKeeper's: 16 bytes of java.util.Random seeded with (sessionId ^ 0xB3415C00), so a session
made by one server (ours or Apache ZooKeeper's) is accepted by any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jute.constants import CONTAINER_EPHEMERAL_OWNER
from ..jute.records import Id

_SUPER_SECRET = 0xB3415C00
LOCAL_OWNER = -1
"""The owner of a session whose connection is on the leader itself (ZooKeeper's ServerCnxn.me); a session
served by a learner is owned by that learner's server id."""
_MASK48 = (1 << 48) - 1
_MULT = 0x5DEECE66D
_MASK64 = (1 << 64) - 1


def _signed64(v: int) -> int:
    v &= _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def generate_password(session_id: int) -> bytes:
    """java.util.Random(sessionId ^ superSecret).nextBytes(new byte[16])."""
    seed = ((session_id ^ _SUPER_SECRET) ^ _MULT) & _MASK48
    out = bytearray()
    while len(out) < 16:
        seed = (seed * _MULT + 0xB) & _MASK48
        rnd = seed >> 16  # next(32)
        for _ in range(min(16 - len(out), 4)):
            out.append(rnd & 0xFF)
            rnd >>= 8
    return bytes(out)


def initial_session_id(server_id: int, now_ms: int) -> int:
    """SessionTrackerImpl.initializeNextSessionId: time in the middle bits, server id in the top byte."""
    sid = ((now_ms << 24) & _MASK64) >> 8
    sid = _signed64(sid | (server_id << 56))
    if sid == CONTAINER_EPHEMERAL_OWNER:
        sid += 1
    return sid


@dataclass(slots=True, eq=False)
class Session:
    id: int
    timeout_ms: int
    expire_at_ms: int = 0
    closing: bool = False
    conn: int | None = None  # the connection it is attached to, if any
    # Which member serves it, as the leader knows (SessionTrackerImpl's owner): a write from any other member
    # is refused with SESSIONMOVED. None until the first request or revalidation sets it.
    owner: int | None = None
    auth: list[Id] = field(default_factory=list)


class SessionTable:
    def __init__(self, tick_ms: int) -> None:
        assert tick_ms > 0
        self.tick_ms = tick_ms
        self.sessions: dict[int, Session] = {}
        self._buckets: dict[int, set[int]] = {}
        self._next_expiration_ms = 0

    def _round_up(self, t_ms: int) -> int:
        return (t_ms // self.tick_ms + 1) * self.tick_ms

    def start(self, now_ms: int) -> None:
        self._next_expiration_ms = self._round_up(now_ms)

    def get(self, session_id: int) -> Session | None:
        return self.sessions.get(session_id)

    def add(self, session_id: int, timeout_ms: int, now_ms: int) -> Session:
        s = self.sessions.get(session_id)
        if s is None:
            s = self.sessions[session_id] = Session(session_id, timeout_ms)
        self.touch(s, now_ms, timeout_ms)
        return s

    def touch(self, s: Session, now_ms: int, timeout_ms: int | None = None) -> bool:
        """Move the session's deadline out; False if it is closing (expired or being closed)."""
        if s.closing:
            return False
        if timeout_ms is not None:
            s.timeout_ms = timeout_ms
        at = self._round_up(now_ms + s.timeout_ms)
        if at != s.expire_at_ms:
            old = self._buckets.get(s.expire_at_ms)
            if old is not None:
                old.discard(s.id)
                if not old:
                    del self._buckets[s.expire_at_ms]
            self._buckets.setdefault(at, set()).add(s.id)
            s.expire_at_ms = at
        return True

    def claim(self, s: Session, owner: int) -> bool:
        """SessionTrackerImpl.checkSession's owner test: the first request sets the owner; one from another
        owner means the session has moved away from the member that sent it."""
        if s.owner is None:
            s.owner = owner
        return s.owner == owner

    def remove(self, session_id: int) -> Session | None:
        s = self.sessions.pop(session_id, None)
        if s is not None:
            bucket = self._buckets.get(s.expire_at_ms)
            if bucket is not None:
                bucket.discard(session_id)
                if not bucket:
                    del self._buckets[s.expire_at_ms]
        return s

    def expired(self, now_ms: int) -> list[Session]:
        """Sessions whose bucket has passed; each is marked closing and returned once."""
        out: list[Session] = []
        for _ in range(10_000):  # bounded: a long pause catches up at most this many ticks per call
            if now_ms < self._next_expiration_ms:
                break
            for sid in sorted(self._buckets.pop(self._next_expiration_ms, ())):
                s = self.sessions.get(sid)
                if s is not None and not s.closing:
                    s.closing = True
                    out.append(s)
            self._next_expiration_ms += self.tick_ms
        else:
            self._next_expiration_ms = self._round_up(now_ms)
        return out

    def __len__(self) -> int:
        return len(self.sessions)
