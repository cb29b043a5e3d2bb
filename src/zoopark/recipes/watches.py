"""Persistent and recursive watches (ZooKeeper 3.6's addWatch) for kazoo, which has no API for them, and a
tree cache built on a recursive watch.

    watches = PersistentWatches(client)
    watches.add("/app", callback, recursive=True)   # callback(WatchedEvent) for every change under /app
    watches.remove("/app")

A persistent watch is not used up by its event. kazoo's setWatches after a reconnect does not carry it, so
`PersistentWatches` adds every watch again when the client reconnects (events in between are not replayed:
a `reconnected` callback says when to re-read, as `TreeCache` does).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.protocol.serialization import Watch
from kazoo.protocol.states import EventType, KazooState, KeeperState, WatchedEvent

from .records import ADD_WATCH_MODES, WATCHER_TYPES, AddWatch, RemoveWatches, call

log = logging.getLogger("zoopark.recipes.watches")
# WatcherEvent types on the wire
_EVENTS = {1: EventType.CREATED, 2: EventType.DELETED, 3: EventType.CHANGED, 4: EventType.CHILD}


class PersistentWatches:
    def __init__(self, client: KazooClient) -> None:
        self.client = client
        self._watches: dict[str, tuple[bool, Callable[[WatchedEvent], None]]] = {}
        self._reconnected: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        conn = client._connection
        original = conn._read_watch_event

        def read(buffer, offset):  # runs on kazoo's connection thread, in the order the server sent events
            watch, _ = Watch.deserialize(buffer, offset)
            kind = _EVENTS.get(watch.type)
            if kind is not None:
                for cb in self._matching(watch.path):
                    event = WatchedEvent(kind, KeeperState.CONNECTED, client.unchroot(watch.path))
                    client.handler.dispatch_callback(_callback(cb, event))
            return original(buffer, offset)

        conn._read_watch_event = read
        self._lost = False
        client.add_listener(self._on_state)

    def add(self, path: str, callback: Callable[[WatchedEvent], None], recursive: bool = True,
            timeout: float = 30.0) -> None:
        mode = ADD_WATCH_MODES["PERSISTENT_RECURSIVE" if recursive else "PERSISTENT"]
        with self._lock:
            self._watches[path] = (recursive, callback)
        try:
            call(self.client, AddWatch(self.client.chroot + path if self.client.chroot else path, mode), timeout)
        except Exception:
            self.forget(path)
            raise

    def forget(self, path: str) -> None:
        """Stop dispatching and re-adding the watch on `path` (the server's side is the caller's business)."""
        with self._lock:
            self._watches.pop(path, None)

    def remove(self, path: str, timeout: float = 30.0) -> None:
        self.forget(path)
        try:
            call(self.client, RemoveWatches(self.client.chroot + path if self.client.chroot else path,
                                            WATCHER_TYPES["a"]), timeout)
        except NoNodeError:  # ZooKeeper says NOWATCHER / NONODE when there was nothing to remove
            pass

    def on_reconnected(self, callback: Callable[[], None]) -> None:
        """`callback()` after the watches were added again on a new connection (events may have been missed)."""
        self._reconnected.append(callback)

    def _matching(self, path: str) -> list[Callable[[WatchedEvent], None]]:
        with self._lock:
            items = list(self._watches.items())
        return [cb for w, (recursive, cb) in items
                if path == w or (recursive and path.startswith(w.rstrip("/") + "/"))]

    def _on_state(self, state: str) -> None:
        if state != KazooState.CONNECTED:
            self._lost = True
            return
        if self._lost:
            self._lost = False
            self.client.handler.spawn(self._rearm)  # listeners must not block the connection thread

    def _rearm(self) -> None:
        for attempt in range(5):
            with self._lock:
                items = list(self._watches.items())
            try:
                for path, (recursive, _) in items:
                    mode = ADD_WATCH_MODES["PERSISTENT_RECURSIVE" if recursive else "PERSISTENT"]
                    call(self.client, AddWatch(path, mode))
                for cb in list(self._reconnected):
                    cb()
                return
            except Exception as e:  # noqa: BLE001 - the connection went again
                log.warning("could not restore the persistent watches (attempt %d): %s", attempt + 1, e)
                if not self.client.connected:
                    self._lost = True  # the next connection does it all again
                    return
                time.sleep(0.2 * (attempt + 1))


def _callback(fn, event):
    from kazoo.protocol.states import Callback

    return Callback("watch", fn, (event,))


class TreeCache:
    """Every znode under `root` with its data and Stat, kept current by one recursive watch (no watch per
    node, as Curator's TreeCache needs). `get(path)` -> (data, stat) or None; `paths()` the cached paths."""

    def __init__(self, client: KazooClient, root: str, watches: PersistentWatches | None = None) -> None:
        self.client = client
        self.root = root
        self.watches = watches or PersistentWatches(client)
        self._nodes: dict[str, tuple[bytes, object]] = {}
        self._lock = threading.RLock()  # also the condition's: readers may call snapshot() inside wait_for
        self.changed = threading.Condition(self._lock)
        self.version = 0  # bumped on every change the cache applies
        self._events = 0  # events seen (a reload that overlapped one reads again)

    def start(self) -> TreeCache:
        self.watches.add(self.root, self._on_event, recursive=True)
        self.watches.on_reconnected(self.reload)
        self.reload()
        return self

    def reload(self) -> None:
        """Read the whole subtree again (at start and after a reconnect). An event handled while it reads
        could be overwritten by the older read: then it reads again."""
        for _ in range(20):
            seen = self._events
            fresh = self._read_subtree()
            with self._lock:
                if self._events == seen:
                    self._nodes = fresh
                    self.version += 1
                    self.changed.notify_all()
                    return
        with self._lock:  # changes keep coming: take the last read; their own events follow it
            self._nodes = fresh
            self.version += 1
            self.changed.notify_all()

    def _read_subtree(self) -> dict[str, tuple[bytes, object]]:
        fresh: dict[str, tuple[bytes, object]] = {}
        stack = [self.root]
        for _ in range(10_000_000):
            if not stack:
                break
            p = stack.pop()
            try:
                data, stat = self.client.get(p)
                children = self.client.get_children(p)
            except NoNodeError:
                continue
            fresh[p] = (data, stat)
            stack.extend(f"{p.rstrip('/')}/{c}" for c in children)
        return fresh

    def _on_event(self, event: WatchedEvent) -> None:
        with self._lock:
            self._events += 1
        path = event.path
        if event.type == EventType.DELETED:
            with self._lock:
                self._nodes.pop(path, None)
                self.version += 1
                self.changed.notify_all()
            return
        try:
            data, stat = self.client.get(path)
        except NoNodeError:
            return
        with self._lock:
            self._nodes[path] = (data, stat)
            self.version += 1
            self.changed.notify_all()

    def get(self, path: str):
        with self._lock:
            return self._nodes.get(path)

    def paths(self) -> set[str]:
        with self._lock:
            return set(self._nodes)

    def snapshot(self) -> dict[str, bytes]:
        with self._lock:
            return {p: d for p, (d, _) in self._nodes.items()}

    def stop(self) -> None:
        self.watches.remove(self.root)
