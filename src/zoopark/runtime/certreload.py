"""sslQuorumReloadCertFiles: new quorum certificates without a restart, as ZooKeeper 3.8's X509Util does it.

ZooKeeper (QuorumPeerMain, X509Util.enableCertFileReloading) watches the directories of the
ssl.quorum.keyStore and ssl.quorum.trustStore files; when either file is created or modified (not deleted), it
builds a new SSLContext from both stores and swaps it in. Every new connection, accepted on the election or
quorum port or dialled, takes the context current then; connections already open carry on with theirs. A store
that does not load leaves the old context in place (ZooKeeper logs the exception from its watcher thread).

Here the files' stat (device, inode, size, modification time) is polled once a second: a rename over the file
and a write in place both change it. A changed, present file rebuilds both ends' contexts (net.tls's
quorum_contexts) off the loop and hands them to `install`; one that does not load (half-written, wrong key,
wrong password) is one warning naming the key, never a password, and the old contexts stay. A file caught
half-written is tried again when its stat changes once more, as its writer finishes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from ..net.tls import QuorumTls, TlsConfigError, TlsSettings, quorum_contexts

log = logging.getLogger("zoopark.quorum.tls")
POLL_S = 1.0

Signature = tuple[int, int, int, int] | None


def signature(path: str) -> Signature:
    """What changes when a file is replaced or rewritten; None while it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class QuorumCertReloader:
    """Polls the ssl.quorum stores of `settings` and installs new contexts when they change and load."""

    def __init__(self, settings: TlsSettings, install: Callable[[QuorumTls], None]) -> None:
        self.settings = settings
        self.install = install
        self.paths = {key: path for key, path in (("ssl.quorum.keyStore.location", settings.key_store_location),
                                                  ("ssl.quorum.trustStore.location", settings.trust_store_location))
                      if path}
        self.seen = {key: signature(path) for key, path in self.paths.items()}
        self.reloads = 0  # contexts installed since start-up
        self.failures = 0  # reloads refused (the old contexts kept)

    def changed(self) -> list[str]:
        """The keys whose file was created or modified since the last look (a deleted one is not a change:
        ZooKeeper ignores deletions, and the file's return counts as one)."""
        keys = []
        for key, path in self.paths.items():
            now = signature(path)
            if now != self.seen[key]:
                self.seen[key] = now
                if now is not None:
                    keys.append(key)
        return keys

    async def poll(self) -> bool:
        """One look; True when new contexts were installed."""
        keys = self.changed()
        if not keys:
            return False
        try:
            contexts = await asyncio.to_thread(quorum_contexts, self.settings)
        except TlsConfigError as e:  # its message names the key and never holds a password
            self.failures += 1
            log.warning("sslQuorumReloadCertFiles: %s changed but cannot be used: %s; keeping the quorum "
                        "certificates in use", " and ".join(keys), e)
            return False
        self.install(contexts)
        self.reloads += 1
        log.info("sslQuorumReloadCertFiles: %s changed: new election and quorum connections use %s",
                 " and ".join(keys), " and ".join(self.paths[k] for k in keys))
        return True

    async def run(self) -> None:
        log.info("sslQuorumReloadCertFiles: watching %s for new certificates",
                 ", ".join(f"{k} ({p})" for k, p in self.paths.items()))
        while True:
            await asyncio.sleep(POLL_S)
            try:
                await self.poll()
            except Exception:  # noqa: BLE001 - a member never dies of its certificate files
                log.exception("sslQuorumReloadCertFiles: reloading the quorum certificates failed")
