"""Helpers of the TLS tests: a ZooKeeper 3.8 and a zoopark configured the same way, TLS clients of them."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator

from kazoo.client import KazooClient

from certs import Identity, Pki
from procs import ServerProcess, ZooKeeperProcess, ZooParkProcess, free_port

NETTY = {"serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory"}  # ZooKeeper's TLS needs it
X509 = {"authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider"}
ADMIN = "CN=admin,OU=ops,O=zoopark"


class Secure:
    """A server process and the TLS port it serves (`secureClientPort`, or clientPort when unified)."""

    def __init__(self, proc: ServerProcess, tls_port: int) -> None:
        self.proc = proc
        self.tls_port = tls_port

    @property
    def kind(self) -> str:
        return self.proc.kind


@contextlib.contextmanager
def both(extra: dict[str, str], unified: bool = False) -> Iterator[list[Secure]]:
    """ZooKeeper 3.8 and zoopark with the same zoo.cfg lines plus a secureClientPort of their own (none when
    `unified`: then TLS comes in on clientPort)."""
    servers: list[Secure] = []
    try:
        for cls in (ZooKeeperProcess, ZooParkProcess):
            port = free_port()
            lines = {**NETTY, **extra}
            if not unified:
                lines["secureClientPort"] = str(port)
            p = cls(extra=lines)
            servers.append(Secure(p, p.port if unified else port))
            p.start()
        yield servers
    finally:
        for s in servers:
            s.proc.cleanup()


def tls_only(cls: type[ServerProcess]) -> type[ServerProcess]:
    """`cls` with no clientPort line in its zoo.cfg (procs always writes one)."""
    class TlsOnly(cls):  # type: ignore[valid-type, misc]
        def config_text(self) -> str:
            lines = super().config_text().splitlines(keepends=True)
            return "".join(ln for ln in lines if not ln.startswith("clientPort"))
    return TlsOnly


def kazoo(port: int, pki: Pki, ident: Identity | None, label: str, timeout: float = 10.0) -> KazooClient:
    """A started kazoo client over TLS, with `ident`'s certificate (or none)."""
    files = pki.client_files(ident, label) if ident else {"ca": str(pki.ca.cert_pem(pki.path("ca.pem")))}
    c = KazooClient(f"127.0.0.1:{port}", use_ssl=True, verify_certs=True, timeout=timeout, **files)
    c.start(timeout=max(timeout, 30.0))  # a loaded machine's TLS handshakes take their time
    return c


def tls_four_letter(port: int, pki: Pki, word: str) -> str:
    """A four-letter word's answer over TLS, with the client certificate."""
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_pem(pki.path("ca.pem"))))
    files = pki.client_files(pki.client, "client")
    ctx.load_cert_chain(files["certfile"], files["keyfile"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(word.encode())
            return recv_all(s).decode()


def handshake(port: int, pki: Pki, ident: Identity | None, label: str) -> str:
    """"ok" (with the protocol and cipher) if a TLS handshake with `ident`'s certificate completes and the
    server then answers `ruok` over it, else "refused"."""
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_pem(pki.path("ca.pem"))))
    if ident is not None:
        files = pki.client_files(ident, label)
        ctx.load_cert_chain(files["certfile"], files["keyfile"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"ruok")
                answer = recv_all(s)
                return f"ok {s.version()} {s.cipher()[0]} {answer!r}"
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return "refused"


def recv_all(s: socket.socket, limit_bytes: int = 1 << 20) -> bytes:
    chunks, n = [], 0
    while n < limit_bytes:
        try:
            b = s.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not b:
            break
        chunks.append(b)
        n += len(b)
    return b"".join(chunks)


def closed_without_answer(port: int, payload: bytes, timeout_s: float = 15.0) -> bool:
    """Send `payload` and read until the server closes: True if it closed having sent nothing back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(payload)
        deadline = time.monotonic() + timeout_s
        got = b""
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                return got == b""
            except TimeoutError:
                return False
            if not b:
                return got == b""
            got += b
    return False


def stop(*clients: KazooClient) -> None:
    for c in clients:
        c.stop()
        c.close()
