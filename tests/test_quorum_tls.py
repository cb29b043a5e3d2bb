"""sslQuorum: TLS with certificates at both ends on the election and quorum ports, as ZooKeeper 3.8 does it
(QuorumX509Util, the ssl.quorum.* keys): a zoopark ensemble, a mixed zoopark / ZooKeeper one, and a member
whose certificate the others do not trust."""

from __future__ import annotations

import socket
import ssl
import time

import pytest
from kazoo.client import KazooClient

from zoopark.core.jute.election import InitialMessage

from certs import Identity, Pki, issue, make_ca, name
from procs import (
    ServerProcess,
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    server_mode,
    wait_settled,
)
from references import needs
from tlshelp import closed_without_answer

pytestmark = pytest.mark.xdist_group("ensembles")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("quorum-pki"))


def quorum_tls(pki: Pki, ident: Identity | None = None, label: str = "member") -> dict[str, str]:
    """The zoo.cfg lines of sslQuorum with PEM stores: `ident`'s key and certificate (the CA's server
    certificate, naming 127.0.0.1, by default), the test CA trusted. ZooKeeper passes the ssl.quorum.* lines on
    as its zookeeper.ssl.quorum.* system properties, so both servers take the same lines."""
    key = (ident or pki.server).pem(pki.path(f"{label}.pem"))
    return {"sslQuorum": "true", "ssl.quorum.keyStore.location": str(key), "ssl.quorum.keyStore.type": "PEM",
            "ssl.quorum.trustStore.location": str(pki.ca.cert_pem(pki.path("ca.pem"))),
            "ssl.quorum.trustStore.type": "PEM"}


def client(port: int, clients: list[KazooClient]) -> KazooClient:
    c = KazooClient(f"127.0.0.1:{port}", timeout=15.0)
    c.start(timeout=30)
    clients.append(c)
    return c


def wait_for_log(p: ServerProcess, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = p.log_path.read_text(errors="replace") if p.log_path.exists() else ""
        if text in log:
            return next(line for line in log.splitlines() if text in line)
        time.sleep(0.1)
    raise AssertionError(f"{p.kind} never logged {text!r}:\n{p.log_tail(30)}")


def tls_handshake(port: int, pki: Pki, ident: Identity) -> str:
    """The protocol a TLS handshake with `ident`'s certificate negotiates on `port`, or "refused"."""
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_pem(pki.path("ca.pem"))))
    ctx.load_cert_chain(str(ident.pem(pki.path("probe.pem"))))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.settimeout(2)
                try:  # TLS 1.3 reports a refused client certificate only on the first read
                    s.recv(1)
                except (TimeoutError, socket.timeout):
                    pass
                return s.version() or "?"
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return "refused"


def commit_everywhere(members: list[ServerProcess], tag: str, clients: list[KazooClient]) -> None:
    """A write through each member (a follower's is forwarded to the leader over the quorum port); each member
    then reads every one of them."""
    cs = [client(p.port, clients) for p in members]
    for i, c in enumerate(cs):
        c.create(f"/{tag}-{i}", f"{tag} via {members[i].kind}".encode())
    for c in cs:
        c.sync("/")
        assert {f"/{tag}-{i}": c.get(f"/{tag}-{i}")[0] for i in range(len(cs))} == \
            {f"/{tag}-{i}": f"{tag} via {members[i].kind}".encode() for i in range(len(cs))}


def test_a_zoopark_ensemble_over_tls_elects_commits_and_fails_over(pki) -> None:
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), **quorum_tls(pki)}
    members = {i: member(ZooParkProcess, i, extra) for i in (1, 2, 3)}
    clients: list[KazooClient] = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()), 90)
        # Both ports speak TLS only to a certificate the CA signed: the members' own, not a stranger's.
        for _qp, ep in ports.values():
            assert tls_handshake(ep, pki, pki.server).startswith("TLS")
            assert tls_handshake(ep, pki, pki.untrusted) == "refused"
            # A plain member's initial message (protocol version -65536, sid 9, its address) is not TLS:
            # the connection is closed unanswered.
            plain = InitialMessage(9, "127.0.0.1:1").encode()
            assert closed_without_answer(ep, plain)
        assert "election port: TLS handshake with 127.0.0.1:" in members[1].log_path.read_text()
        leader = roles["leader"][0]
        assert tls_handshake(next(qp for i, (qp, _) in ports.items() if members[i] is leader), pki,
                             pki.server).startswith("TLS")
        commit_everywhere(list(members.values()), "before", clients)
        close_clients(clients)
        clients.clear()
        leader.kill()
        rest = [p for p in members.values() if p is not leader]
        wait_settled(rest, 90)
        commit_everywhere(rest, "after", clients)
        assert clients[0].get("/before-0")[0] == b"before via zoopark"
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


def test_a_member_with_a_certificate_nobody_trusts_is_refused_and_the_rest_carry_on(pki) -> None:
    ports = ensemble_ports((1, 2, 3))
    base = ensemble_config(ports)
    members = {i: member(ZooParkProcess, i, {**base, **quorum_tls(pki)}) for i in (1, 2)}
    stranger_ca = make_ca("not the ensemble's CA")
    stranger = issue(stranger_ca, name(("O", "zoopark"), ("CN", "localhost")), server=True)
    members[3] = member(ZooParkProcess, 3, {**base, **quorum_tls(pki, stranger, "stranger")})
    clients: list[KazooClient] = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled([members[1], members[2]], 90)
        commit_everywhere([members[1], members[2]], "trusted", clients)
        # Member 3 dials the others' election ports (it has the highest id): they refuse it, one line each
        # naming the peer and the reason, and it never joins.
        line = wait_for_log(members[2], "TLS handshake with 127.0.0.1:", 30)
        assert "refused" in line and ("certificate" in line or "alert" in line.lower()), line
        assert "s3cret" not in members[2].log_path.read_text()
        assert members[3].proc.poll() is None  # it runs on, LOOKING: it just is not let in
        assert server_mode(members[3].port) == ""
        assert {p.port for p in roles["leader"] + roles["follower"]} == {members[1].port, members[2].port}
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


@needs("zookeeper")
def test_a_mixed_tls_ensemble_of_zoopark_and_zookeeper_elects_commits_and_fails_over(pki) -> None:
    """ZooKeeper 1 and 2 and zoopark 3, all with sslQuorum. The leader is killed, the other two elect, it comes
    back as a follower: zoopark leads ZooKeeper followers and follows a ZooKeeper leader over TLS on the way
    (whichever of the two it is first)."""
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), **quorum_tls(pki)}
    members: dict[int, ServerProcess] = {i: member(ZooKeeperProcess, i, extra) for i in (1, 2)}
    members[3] = member(ZooParkProcess, 3, extra)
    clients: list[KazooClient] = []
    zoopark_roles = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()), 120)
        zoopark_roles.append(next(r for r, ps in roles.items() if members[3] in ps))
        for _qp, ep in ports.values():  # every member's election port, ZooKeeper's too, is TLS only
            assert tls_handshake(ep, pki, pki.server).startswith("TLS")
            assert tls_handshake(ep, pki, pki.untrusted) == "refused"
        commit_everywhere(list(members.values()), "first", clients)
        close_clients(clients)
        clients.clear()
        leader = roles["leader"][0]
        leader.kill()
        rest = [p for p in members.values() if p is not leader]
        roles = wait_settled(rest, 120)
        if members[3] in rest:
            zoopark_roles.append(next(r for r, ps in roles.items() if members[3] in ps))
        commit_everywhere(rest, "second", clients)
        leader.start(wait=False)  # comes back as a follower, synced over TLS
        roles = wait_settled(list(members.values()), 120)
        assert leader in roles["follower"]
        zoopark_roles.append(next(r for r, ps in roles.items() if members[3] in ps))
        close_clients(clients)
        clients.clear()
        commit_everywhere(list(members.values()), "third", clients)
        for c in clients:
            assert c.get("/first-2")[0] == b"first via zoopark" and c.get("/first-0")[0] == b"first via zookeeper"
            assert c.get("/second-0")[0] == f"second via {rest[0].kind}".encode()
        assert {"leader", "follower"} <= set(zoopark_roles), zoopark_roles
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


def test_sslquorum_with_a_store_it_cannot_read_stops_start_up_naming_the_quorum_key(pki, tmp_path) -> None:
    from zoopark.config import ConfigError, parse_config

    base = f"dataDir={tmp_path}\nclientPort=2181\n"
    good = "".join(f"{k}={v}\n" for k, v in quorum_tls(pki).items())
    assert parse_config(base + good).ssl_quorum
    assert not parse_config(base + good.replace("sslQuorum=true", "sslQuorum=false")).ssl_quorum
    wrong_pw = pki.server.pem(pki.path("enc.pem"), "right-pw")
    bad = good.replace(str(pki.path("member.pem")), str(wrong_pw)) + "ssl.quorum.keyStore.password=wrong-pw\n"
    with pytest.raises(ConfigError) as e:
        parse_config(base + bad)
    assert str(e.value).startswith("ssl.quorum.keyStore.location:") and "wrong-pw" not in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse_config(base + "sslQuorum=true\n")
    assert str(e.value).startswith("ssl.quorum.keyStore.location:")
