"""The per-connection reply invariant: replies leave each connection in request order, and each reply
answers its own request.

ZooKeeper's clients depend on it: kazoo and the Java client match a reply to the oldest request they have
outstanding on the connection and give up the connection ("xids do not match") when its xid differs. A
checker is fed what a client sends and what it receives, connection by connection, and raises
`ReplyOrderViolation` at the first reply that breaks the rule. It is pure: the core tests and the simulator
use it alike.

Requests whose xid is special are not in the order: a ping (-2) is answered in turn like any request, but
an auth packet (-4) is answered at once by ZooKeeper (before its pipeline), so its reply may overtake; a
watch event (-1) answers nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

XID_NOTIFICATION = -1
XID_AUTH = -4
_SEQUENTIAL_DIGITS = 10
_OUTSTANDING_MAX = 100_000  # per connection: a client that never hears back is a bug of its own


class ReplyOrderViolation(AssertionError):
    """A reply out of request order, or one that answers another request than its own."""


@dataclass(frozen=True, slots=True)
class Outstanding:
    xid: int
    op: int
    path: str | None


class ReplyOrder:
    """Watches requests and replies per connection; connections are any hashable ids, unique per
    connection (a client reconnecting with its session opens a new one, where its xids may start again)."""

    def __init__(self) -> None:
        self._pending: dict[object, deque[Outstanding]] = {}
        self._closed: set[object] = set()
        self.replies_checked = 0

    def on_request(self, conn: object, xid: int, op: int, path: str | None = None) -> None:
        """A request left the client on `conn`; `path` is its path, if it has one."""
        if conn in self._closed:
            raise ReplyOrderViolation(f"request xid {xid} sent on closed connection {conn!r}")
        q = self._pending.setdefault(conn, deque())
        if len(q) >= _OUTSTANDING_MAX:
            raise ReplyOrderViolation(f"connection {conn!r}: {len(q)} requests outstanding, none answered")
        q.append(Outstanding(xid, op, path))

    def on_reply(self, conn: object, xid: int, err: int = 0, path: str | None = None) -> Outstanding | None:
        """A reply arrived on `conn`; `path` is the path it names (a create's), if any. Returns the request
        it answers (None for a watch event)."""
        if xid == XID_NOTIFICATION:
            return None
        if conn in self._closed:
            raise ReplyOrderViolation(f"reply xid {xid} (err {err}) on closed connection {conn!r}")
        q = self._pending.get(conn)
        if not q:
            raise ReplyOrderViolation(f"connection {conn!r}: reply xid {xid} (err {err}) but no request is "
                                      "outstanding")
        if xid == XID_AUTH and q[0].xid != XID_AUTH:
            req = next((r for r in q if r.xid == XID_AUTH), None)
            if req is None:
                raise ReplyOrderViolation(f"connection {conn!r}: auth reply without an auth request")
            q.remove(req)
            self.replies_checked += 1
            return req
        req = q[0]
        if req.xid != xid:
            raise ReplyOrderViolation(f"connection {conn!r}: reply xid {xid} (err {err}) while the oldest "
                                      f"request outstanding is xid {req.xid} (op {req.op}); outstanding: "
                                      f"{[r.xid for r in q]}")
        if path is not None and req.path is not None and not _same_path(req.path, path):
            raise ReplyOrderViolation(f"connection {conn!r}: reply to xid {xid} (op {req.op}, path {req.path!r}) "
                                      f"names {path!r}: it answers another request")
        q.popleft()
        self.replies_checked += 1
        return req

    def on_close(self, conn: object) -> list[Outstanding]:
        """The connection is gone: what was outstanding is lost with it (the client sees a connection loss).
        Returns those requests."""
        self._closed.add(conn)
        return list(self._pending.pop(conn, ()))

    def outstanding(self, conn: object) -> list[Outstanding]:
        return list(self._pending.get(conn, ()))


def _same_path(asked: str, named: str) -> bool:
    """A reply names the path asked for, or, for a sequential create, that path with its 10-digit counter."""
    if named == asked:
        return True
    return len(named) == len(asked) + _SEQUENTIAL_DIGITS and named.startswith(asked)


__all__ = ["ReplyOrder", "ReplyOrderViolation", "Outstanding"]
