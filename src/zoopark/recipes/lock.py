"""kazoo's Lock with a fencing token: the czxid of the lock's own sequential znode. Every acquisition gets a
token larger than any earlier holder's (zxids only grow, and a waiter's node is created after the nodes
ahead of it), so a resource that remembers the largest token it has seen can refuse a stale holder: one whose
session expired (its lock node gone, someone else holding the lock) while it went on working.

    lock = FencedLock(client, "/locks/orders", "worker-7")
    with lock as token:
        storage.write(data, fence=token)     # storage rejects fence < the largest it has seen
"""

from __future__ import annotations

import threading

from kazoo.client import KazooClient
from kazoo.recipe.lock import Lock


class FencedLock:
    def __init__(self, client: KazooClient, path: str, identifier: str = "") -> None:
        self.client = client
        self.path = path
        self.lock = Lock(client, path, identifier)
        self.token: int | None = None

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> int | None:
        """The token once held (None if not acquired within the timeout, or at once when not blocking)."""
        if not self.lock.acquire(blocking=blocking, timeout=timeout):
            return None
        stat = self.client.exists(f"{self.path}/{self.lock.node}")
        if stat is None:  # the session died between acquiring and reading: not held any more
            self.lock.release()
            raise RuntimeError(f"lost {self.path} while acquiring it")
        self.token = stat.czxid
        return self.token

    def release(self) -> None:
        self.token = None
        self.lock.release()

    def is_held(self) -> bool:
        return self.token is not None and self.lock.is_acquired

    def __enter__(self) -> int:
        token = self.acquire()
        assert token is not None
        return token

    def __exit__(self, *exc) -> None:
        self.release()


class FencedResource:
    """What a resource guarded by a FencedLock does (an example, and the tests' referee): accept an operation
    only with a token at least as large as any it has seen."""

    def __init__(self) -> None:
        self.highest = 0
        self.accepted: list[tuple[int, object]] = []
        self.refused: list[tuple[int, object]] = []
        self._lock = threading.Lock()

    def write(self, token: int, what: object) -> bool:
        with self._lock:
            if token < self.highest:
                self.refused.append((token, what))
                return False
            self.highest = token
            self.accepted.append((token, what))
            return True
