"""The watch tables: ZooKeeper's WatchManager, keyed by session id.

Two tables, data and child, each path -> {session: mode}. A later registration by the same session on the
same path replaces the mode (as ZooKeeper's WatcherModeManager does). Triggering a path walks it and its
parents: recursive watches on any ancestor fire (except for child events), other watches only on the path
itself, and one-shot watches are removed as they fire.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..jute.constants import EventType
from .paths import ancestors_and_self

STANDARD: Final = 0
PERSISTENT: Final = 1
PERSISTENT_RECURSIVE: Final = 2
_NONE: Final[frozenset[int]] = frozenset()


class WatchTable:
    __slots__ = ("by_path", "by_session", "recursive_count")

    def __init__(self) -> None:
        self.by_path: dict[str, dict[int, int]] = {}
        self.by_session: dict[int, set[str]] = {}
        self.recursive_count = 0

    def add(self, path: str, session: int, mode: int = STANDARD) -> None:
        watchers = self.by_path.get(path)
        if watchers is None:
            watchers = self.by_path[path] = {}
        old = watchers.get(session)
        if old == PERSISTENT_RECURSIVE:
            self.recursive_count -= 1
        if mode == PERSISTENT_RECURSIVE:
            self.recursive_count += 1
        watchers[session] = mode
        self.by_session.setdefault(session, set()).add(path)

    def remove(self, path: str, session: int) -> bool:
        paths = self.by_session.get(session)
        if not paths or path not in paths:
            return False
        paths.discard(path)
        if not paths:
            del self.by_session[session]
        watchers = self.by_path.get(path)
        if watchers is None or session not in watchers:
            return False
        if watchers.pop(session) == PERSISTENT_RECURSIVE:
            self.recursive_count -= 1
        if not watchers:
            del self.by_path[path]
        return True

    def remove_session(self, session: int) -> None:
        for path in self.by_session.pop(session, ()):
            watchers = self.by_path.get(path)
            if watchers is not None:
                if watchers.pop(session, None) == PERSISTENT_RECURSIVE:
                    self.recursive_count -= 1
                if not watchers:
                    del self.by_path[path]

    def contains(self, path: str, session: int) -> bool:
        """ZooKeeper's containsWatcher: any watcher on the path itself, or this session's recursive one."""
        if path in self.by_path:
            return True
        if not self.recursive_count:
            return False
        for p in ancestors_and_self(path):
            if self.by_path.get(p, {}).get(session) == PERSISTENT_RECURSIVE:
                return True
        return False

    def trigger(self, path: str, event: EventType, suppress: Iterable[int] = ()) -> set[int] | frozenset[int]:
        """Fire `event` on `path`; return every session it fired for (suppressed ones included)."""
        if not self.recursive_count and path not in self.by_path:
            return _NONE  # the common case of a write: nobody watches the path (no set made to say so)
        fired: set[int] = set()
        if self.recursive_count:
            paths: Iterable[str] = ancestors_and_self(path)
        else:
            paths = (path,)
        for p in paths:
            watchers = self.by_path.get(p)
            if not watchers:
                continue
            at_path = p == path
            for session, mode in list(watchers.items()):
                if mode == PERSISTENT_RECURSIVE:
                    if event != EventType.NODE_CHILDREN_CHANGED:
                        fired.add(session)
                elif at_path:
                    fired.add(session)
                    if mode == STANDARD:
                        del watchers[session]
                        s = self.by_session.get(session)
                        if s is not None:
                            s.discard(p)
                            if not s:
                                del self.by_session[session]
            if not watchers:
                del self.by_path[p]
        return fired

    def count(self) -> int:
        return sum(len(w) for w in self.by_path.values())
