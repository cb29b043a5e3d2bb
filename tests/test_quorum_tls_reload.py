"""sslQuorumReloadCertFiles: a member takes new ssl.quorum.* store files without a restart, as ZooKeeper 3.8's
X509Util does (new connections use the new certificate, open ones carry on, a store that does not load changes
nothing). The reloader without sockets, a live zoopark ensemble, and a ZooKeeper member side by side."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from kazoo.client import KazooClient

from zoopark.config import parse_config
from zoopark.net.tls import QuorumTls, TlsSettings
from zoopark.runtime.certreload import QuorumCertReloader

from certs import PASSWORD, Identity, Pki, issue, make_ca, name
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
    wait_until,
)
from references import needs

pytestmark = pytest.mark.xdist_group("ensembles")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("reload-pki"))


def member_identity(pki: Pki, cn: str) -> Identity:
    """A member certificate the ensemble's CA signed (naming 127.0.0.1), told apart by its CN."""
    return issue(pki.ca, name(("O", "zoopark"), ("CN", cn)), server=True)


def stranger_identity(cn: str) -> Identity:
    return issue(make_ca("a CA no member trusts"), name(("O", "zoopark"), ("CN", cn)), server=True)


def replace(path: Path, ident: Identity) -> None:
    """Write the new store beside the old one and rename it over it, as a deployment tool does."""
    tmp = ident.pem(path.with_suffix(".new"))
    os.replace(tmp, path)


def common_name(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


# ---- the reloader, without sockets --------------------------------------------------------------------


def presented(contexts: QuorumTls) -> str:
    """The CN of the certificate a listener with `contexts` presents to a dialler with the same contexts,
    over memory buffers (both ends verify, as between members)."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = contexts.client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    server = contexts.server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(10):
        for side, obj in (("c", client), ("s", server)):
            if not done[side]:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return common_name(client.getpeercert(binary_form=True))
    raise AssertionError("no handshake")


def settings_for(pki: Pki, key: Path) -> TlsSettings:
    return TlsSettings(key_store_location=str(key), key_store_type="PEM",
                       trust_store_location=str(pki.ca.cert_pem(pki.path("ca.pem"))), trust_store_type="PEM")


def bump(path: Path) -> None:
    """Some filesystems stamp times coarsely: make sure a rewrite shows in the file's stat."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_new_store_is_installed_and_a_broken_one_keeps_the_old_contexts(pki, tmp_path, caplog) -> None:
    key = member_identity(pki, "first").pem(tmp_path / "member.pem")
    installed: list[QuorumTls] = []
    r = QuorumCertReloader(settings_for(pki, key), installed.append)
    caplog.set_level(logging.INFO, "zoopark.quorum.tls")

    assert not asyncio.run(r.poll()) and installed == []  # nothing changed: nothing done

    replace(key, member_identity(pki, "second"))
    assert asyncio.run(r.poll())
    assert [presented(c) for c in installed] == ["second"]

    # Half-written: cut inside the key. Nothing installed, one warning that names the key; a later look at the
    # same file does not try again.
    whole = member_identity(pki, "third").pem(tmp_path / "third.pem").read_bytes()
    key.write_bytes(whole[:100])
    bump(key)
    caplog.clear()
    assert not asyncio.run(r.poll())
    assert not asyncio.run(r.poll())
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "ssl.quorum.keyStore.location" in warnings[0] and "keeping the quorum certificates" in warnings[0]
    assert len(installed) == 1
    # ... and once the writer is done, it is taken.
    key.write_bytes(whole)
    bump(key)
    assert asyncio.run(r.poll())
    assert presented(installed[-1]) == "third"
    assert (r.reloads, r.failures) == (2, 1)


def test_a_wrong_password_is_logged_without_it_and_a_deleted_file_is_no_change(pki, tmp_path, caplog) -> None:
    key = member_identity(pki, "first").pem(tmp_path / "member.pem", PASSWORD)
    settings = TlsSettings(key_store_location=str(key), key_store_type="PEM", key_store_password=PASSWORD,
                           trust_store_location=str(pki.ca.cert_pem(pki.path("ca.pem"))), trust_store_type="PEM")
    installed: list[QuorumTls] = []
    r = QuorumCertReloader(settings, installed.append)
    caplog.set_level(logging.INFO, "zoopark.quorum.tls")
    member_identity(pki, "other-password").pem(key, "not-the-password")
    bump(key)
    assert not asyncio.run(r.poll())
    text = caplog.text
    assert "ssl.quorum.keyStore.location" in text and PASSWORD not in text and "not-the-password" not in text
    # Deleted: ZooKeeper ignores deletions; the file's return is a change.
    key.unlink()
    assert not asyncio.run(r.poll())
    member_identity(pki, "back").pem(key, PASSWORD)
    assert asyncio.run(r.poll())
    assert [presented(c) for c in installed] == ["back"]


def test_a_new_trust_store_is_taken_too(pki, tmp_path) -> None:
    """Either store's change rebuilds both: a trust store naming another CA makes the member's own (old-CA)
    certificate untrusted to its new dialling context."""
    key = member_identity(pki, "first").pem(tmp_path / "member.pem")
    trust = pki.ca.cert_pem(tmp_path / "trust.pem")
    settings = TlsSettings(key_store_location=str(key), key_store_type="PEM", trust_store_location=str(trust),
                           trust_store_type="PEM")
    installed: list[QuorumTls] = []
    r = QuorumCertReloader(settings, installed.append)
    make_ca("another CA").cert_pem(trust)
    bump(trust)
    assert asyncio.run(r.poll())
    with pytest.raises(ssl.SSLError):
        presented(installed[0])


def test_the_key_is_read_from_zoo_cfg(tmp_path) -> None:
    base = f"dataDir={tmp_path}\nclientPort=2181\n"
    assert parse_config(base + "sslQuorumReloadCertFiles=true\n", tmp_path).ssl_quorum_reload_cert_files
    cfg = parse_config(base, tmp_path)
    assert not cfg.ssl_quorum_reload_cert_files
    assert not any(k == "sslQuorumReloadCertFiles" for k, _ in cfg.ignored)
    with pytest.raises(Exception, match="sslQuorumReloadCertFiles"):
        parse_config(base + "sslQuorumReloadCertFiles=maybe\n", tmp_path)


# ---- live ---------------------------------------------------------------------------------------------


def presented_on(port: int, pki: Pki, verify: bool) -> str:
    """What a fresh TLS connection to `port` (presenting a certificate the CA signed, as a member does) sees:
    the CN of the certificate the listener presents, or "refused" when verifying it against the CA fails."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(str(pki.ca.cert_pem(pki.path("probe-ca.pem"))))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(pki.server.pem(pki.path("probe.pem"))))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                return common_name(s.getpeercert(binary_form=True))
        except ssl.SSLCertVerificationError:
            return "refused"


def reload_lines(pki: Pki, key: Path) -> dict[str, str]:
    """sslQuorum with reloading, `key` the member's keystore, the CA in a trust store beside it (written
    once: a rewrite would be a change the member takes)."""
    trust = key.with_name(key.stem + "-trust.pem")
    if not trust.exists():
        pki.ca.cert_pem(trust)
    return {"sslQuorum": "true", "sslQuorumReloadCertFiles": "true",
            "ssl.quorum.keyStore.location": str(key), "ssl.quorum.keyStore.type": "PEM",
            "ssl.quorum.trustStore.location": str(trust), "ssl.quorum.trustStore.type": "PEM"}


def commit_through(members: list[ServerProcess], tag: str, clients: list[KazooClient]) -> None:
    cs = []
    for p in members:
        c = KazooClient(p.hosts, timeout=15.0)
        c.start(timeout=30)
        clients.append(c)
        cs.append(c)
    for i, c in enumerate(cs):
        c.create(f"/{tag}-{i}", tag.encode())
    for c in cs:
        c.sync("/")
        assert all(c.exists(f"/{tag}-{i}") for i in range(len(cs)))


def test_a_zoopark_member_takes_new_certificates_without_a_restart(pki, tmp_path) -> None:
    """Three members, each with its own keystore file. A follower's file is replaced with a new certificate
    of the same CA: fresh connections to its election port get it, and the other follower, restarted, joins.
    Then with a certificate of another CA: fresh connections refuse it while the ensemble carries on (the
    member's open links too); the other follower, restarted again, is kept out until the member has a
    certificate of the CA once more."""
    ports = ensemble_ports((1, 2, 3))
    keys = {i: member_identity(pki, f"member{i}").pem(tmp_path / f"member{i}.pem") for i in (1, 2, 3)}
    members = {i: member(ZooParkProcess, i, {**ensemble_config(ports), **reload_lines(pki, keys[i])})
               for i in (1, 2, 3)}
    clients: list[KazooClient] = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()), 90)
        target, other = roles["follower"]
        t = next(i for i, p in members.items() if p is target)
        election = ports[t][1]
        assert presented_on(election, pki, True) == f"member{t}"

        replace(keys[t], member_identity(pki, f"member{t}-renewed"))
        wait_until("the renewed certificate on a fresh connection",
                   lambda: presented_on(election, pki, True) == f"member{t}-renewed", 20)
        wait_until("the reload logged", lambda: "sslQuorumReloadCertFiles: ssl.quorum.keyStore.location changed"
                   in target.log_path.read_text(), 10)
        other.kill()  # it comes back and dials the others afresh, the renewed member among them
        other.start(wait=False)
        roles = wait_settled(list(members.values()), 90)
        commit_through(list(members.values()), "renewed", clients)

        replace(keys[t], stranger_identity(f"member{t}-stranger"))
        wait_until("the stranger's certificate on a fresh connection",
                   lambda: presented_on(election, pki, False) == f"member{t}-stranger", 20)
        assert presented_on(election, pki, True) == "refused"
        commit_through(list(members.values()), "stranger", clients)  # the links open before carry on
        close_clients(clients)
        clients.clear()
        other.kill()
        other.start(wait=False)
        # Its new connections with the stranger fail (it logs each refusal: the peer and the reason); it hears
        # the leader only, not a quorum, so it stays LOOKING, as under ZooKeeper's FastLeaderElection; the
        # leader and the stranger carry on.
        wait_until("the refusal in the restarted member's log",
                   lambda: "TLS handshake with 127.0.0.1:" in other.log_path.read_text(), 30)
        commit_through([p for p in members.values() if p is not other], "without", clients)
        assert server_mode(other.port) == ""
        # A certificate of the CA again: the next connections are trusted, and it joins.
        replace(keys[t], member_identity(pki, f"member{t}-again"))
        wait_settled(list(members.values()), 90)
        commit_through(list(members.values()), "again", clients)
        assert PASSWORD not in target.log_path.read_text()
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


# What each logs when a changed store does not load (ZooKeeper: the exception its watcher thread's callback threw).
REFUSED_RELOAD = {"zookeeper": "Error from callback", "zoopark": "changed but cannot be used"}


def reloads_like_zookeeper(cls: type[ServerProcess], pki: Pki, dir: Path) -> list[str]:
    """One member of a three-member sslQuorum ensemble whose others are not running (it stays LOOKING, its
    election port open): what fresh connections to its election port see after each change of its keystore:
    renewed, cut inside the key (the refusal logged), cut after the certificate, another CA's."""
    ports = ensemble_ports((1, 2, 3))
    key = member_identity(pki, "v1").pem(dir / f"{cls.kind}.pem")
    p = member(cls, 1, {**ensemble_config(ports), **reload_lines(pki, key)})
    election = ports[1][1]
    seen = []
    try:
        p.start(wait=False)
        seen.append(wait_until("the election port", lambda: _try(election, pki, True), 60))
        replace(key, member_identity(pki, "v2"))
        seen.append(wait_until("v2", lambda: _try(election, pki, True) == "v2" and "v2", 20))
        v3 = member_identity(pki, "v3").pem(dir / "v3.pem").read_bytes()
        key.write_bytes(v3[:100])  # cut inside the key
        wait_until("the refused reload logged", lambda: REFUSED_RELOAD[cls.kind] in p.log_path.read_text(), 20)
        seen.append(_try(election, pki, True))  # still v2
        key.write_bytes(v3[:-200])  # the key and the certificate whole, the CA's certificate after them cut
        seen.append(wait_until("v3", lambda: _try(election, pki, True) == "v3" and "v3", 20))
        replace(key, stranger_identity("v4"))
        seen.append(wait_until("v4", lambda: _try(election, pki, False) == "v4" and "v4", 20))
        seen.append(_try(election, pki, True))  # refused
        assert p.proc is not None and p.proc.poll() is None
        return seen
    finally:
        p.cleanup()


def _try(port: int, pki: Pki, verify: bool) -> str:
    try:
        return presented_on(port, pki, verify)
    except OSError:
        return ""


@needs("zookeeper")
def test_zoopark_and_zookeeper_reload_the_same_way(pki, tmp_path) -> None:
    zk = reloads_like_zookeeper(ZooKeeperProcess, pki, tmp_path)
    zp = reloads_like_zookeeper(ZooParkProcess, pki, tmp_path)
    assert zk == zp == ["v1", "v2", "v2", "v3", "v4", "refused"]
