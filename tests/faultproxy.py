"""A fault-injecting TCP proxy for peer links: forwards one peer's connections to another until told to
partition; then it black-holes them (bytes vanish both ways, connections stay open, as on a cut network) and
new ones, until healed, when the black-holed connections are closed (their streams lost bytes).
With `record=True` it also keeps every byte of the first connection, each direction apart (`c2s`, `s2c`)."""

from __future__ import annotations

import socket
import threading


class FaultProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1", record: bool = False) -> None:
        self.target = (host, target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.cut = False
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket, list[bool]]] = []  # (a, b, [blackholed])
        self.closed = False
        self.record = record
        self.c2s = bytearray()
        self.s2c = bytearray()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(self.target, timeout=5)
                b.settimeout(None)  # idle links (election) must not time out in the proxy
            except OSError:
                a.close()
                continue
            state = [self.cut]
            with self.lock:
                first = not self.pairs
                self.pairs.append((a, b, state))
            logs = (self.c2s, self.s2c) if self.record and first else (None, None)
            for (src, dst), log in zip(((a, b), (b, a)), logs, strict=True):
                threading.Thread(target=self._pump, args=(src, dst, state, log), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, state: list[bool], log: bytearray | None) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.close()
                    except OSError:
                        pass
                return
            if state[0]:
                continue  # black-holed
            if log is not None:
                log += data
            try:
                dst.sendall(data)
            except OSError:
                return

    def partition(self) -> None:
        with self.lock:
            self.cut = True
            for _, _, state in self.pairs:
                state[0] = True

    def heal(self) -> None:
        with self.lock:
            self.cut = False
            dead = [(a, b) for a, b, state in self.pairs if state[0]]
            self.pairs = [p for p in self.pairs if not p[2][0]]
        for a, b in dead:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        self.heal()


class ProxiedEnsemble:
    """An ensemble's peer links, every one through a FaultProxy of its own: member i reaches member j's
    quorum and election ports through proxies[(i, j)], so any set of links can be cut and healed."""

    def __init__(self, ids, free_port) -> None:
        self.ids = tuple(ids)
        self.q = {i: free_port() for i in self.ids}
        self.e = {i: free_port() for i in self.ids}
        self.proxies = {(i, j): (FaultProxy(self.q[j]), FaultProxy(self.e[j]))
                        for i in self.ids for j in self.ids if i != j}

    def view(self, i: int) -> dict[int, tuple[int, int]]:
        """Member i's (quorum, election) port for each id: its own, and the others through its proxies."""
        return {j: (self.q[j], self.e[j]) if j == i else (self.proxies[(i, j)][0].port,
                                                           self.proxies[(i, j)][1].port) for j in self.ids}

    def split(self, *groups) -> None:
        """Cut every link between members of different groups (both directions)."""
        side = {i: k for k, g in enumerate(groups) for i in g}
        for (i, j), pair in self.proxies.items():
            if side.get(i, -1) != side.get(j, -2):
                for p in pair:
                    p.partition()

    def heal(self) -> None:
        for pair in self.proxies.values():
            for p in pair:
                p.heal()

    def close(self) -> None:
        for pair in self.proxies.values():
            for p in pair:
                p.close()
