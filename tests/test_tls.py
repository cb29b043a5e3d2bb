"""Client TLS and x509 authentication, side by side with Apache ZooKeeper 3.8 configured the same way.

Each test starts a ZooKeeper (NettyServerCnxnFactory, as its TLS needs) and a zoopark from the same zoo.cfg
lines, with certificates this module makes (tests/certs.py), and checks that TLS clients see the same of both.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import subprocess
import time
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import make_acl

from certs import PASSWORD, Pki, issue, name
from procs import ZooKeeperProcess, ZooParkProcess, four_letter, free_port, zk_classpath
from references import needs
from tlshelp import (
    ADMIN,
    NETTY,
    X509,
    both,
    closed_without_answer,
    handshake,
    kazoo,
    stop,
    tls_four_letter,
    tls_only,
)
from zkcli import without_events

pytestmark = [needs("zookeeper", "keytool"), pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("pki"))


def _x509_session(port: int, pki: Pki) -> dict[str, object]:
    """What a certificate holder can do with x509 ACLs, and what others can."""
    seen: dict[str, object] = {}
    c = kazoo(port, pki, pki.client, "client")
    try:
        c.create("/mine", b"m", acl=[make_acl("x509", "CN=client,OU=test,O=zoopark", all=True)])
        seen["own read"] = c.get("/mine")[0]
        c.create("/auth", b"a", acl=[make_acl("auth", "", all=True)])
        seen["auth expands to"] = [(a.id.scheme, a.id.id) for a in c.get_acls("/auth")[0]]
        a = kazoo(port, pki, pki.admin, "admin")
        try:
            seen["super user reads"] = a.get("/mine")[0]
        finally:
            stop(a)
        other = issue(pki.ca, name(("O", "zoopark"), ("OU", "test"), ("CN", "other")))
        o = kazoo(port, pki, other, "other")
        try:
            o.get("/mine")
            seen["other reads"] = True
        except NoAuthError:
            seen["other reads"] = "NoAuth"
        finally:
            stop(o)
    finally:
        stop(c)
    return seen


def test_kazoo_with_client_certificates_and_x509_acls(pki):
    extra = {**pki.server_pem(), **X509, "X509AuthenticationProvider.superUser": ADMIN}
    with both(extra) as servers:
        results = {s.kind: _x509_session(s.tls_port, pki) for s in servers}
        handshakes = {s.kind: {label: handshake(s.tls_port, pki, ident, label).split(" ")[:3]
                               for label, ident in [("client", pki.client), ("none", None),
                                                    ("expired", pki.expired), ("untrusted", pki.untrusted)]}
                      for s in servers}
        zp = servers[1].proc
        log = zp.log_path.read_text()
    assert results["zoopark"] == results["zookeeper"]
    assert results["zoopark"] == {"own read": b"m", "auth expands to": [("x509", "CN=client,OU=test,O=zoopark")],
                                  "super user reads": b"m", "other reads": "NoAuth"}
    # ssl.clientAuth defaults to need: no certificate, an expired one or one from another CA: no handshake
    assert handshakes["zoopark"] == handshakes["zookeeper"]
    assert handshakes["zoopark"]["client"] == ["ok", "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"]
    assert {handshakes["zoopark"][k][0] for k in ("none", "expired", "untrusted")} == {"refused"}
    assert "TLS handshake failed with 127.0.0.1:" in log and "certificate has expired" in log
    assert PASSWORD not in log


@pytest.mark.parametrize("lines", [
    {"ssl.protocol": "TLSv1.3", "ssl.ciphersuites": "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384"},
    {"ssl.enabledProtocols": "TLSv1.2,TLSv1.3"},
    {"ssl.ciphersuites": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
], ids=["protocol", "enabledProtocols", "ciphersuites"])
def test_protocols_and_cipher_suites(pki, lines):
    """The TLS version and cipher suite a default OpenSSL client gets, with ZooKeeper's keys and Java's names."""
    with both({**pki.server_pem(), **lines}) as servers:
        got = {s.kind: handshake(s.tls_port, pki, pki.client, "client").split(" ") for s in servers}
    if "TLSv1.3" in got["zookeeper"]:
        # Java picks the first TLS 1.3 suite of ssl.ciphersuites; Python's ssl cannot order TLS 1.3 suites
        # (OpenSSL's own order applies), so only the version is compared.
        got = {k: v[:2] + v[3:] for k, v in got.items()}
    assert got["zoopark"] == got["zookeeper"]
    assert got["zoopark"][0] == "ok"


@pytest.mark.parametrize("client_auth", ["want", "none"])
def test_client_auth_want_and_none(pki, client_auth):
    """want: a client without a certificate connects, one with a certificate gets its x509 id; none: no
    certificate is asked for, so nobody gets an x509 id."""
    extra = {**pki.server_pem(), **X509, "ssl.clientAuth": client_auth}
    results = {}
    with both(extra) as servers:
        for s in servers:
            seen = {}
            anon = kazoo(s.tls_port, pki, None, "anon")
            seen["no certificate"] = anon.get("/")[1].version
            c = kazoo(s.tls_port, pki, pki.client, "client")
            try:
                c.create("/n", b"", acl=[make_acl("auth", "", all=True)])
                seen["auth ACL"] = [a.id.id for a in c.get_acls("/n")[0]]
            except Exception as e:  # noqa: BLE001 - the error class is the result compared
                seen["auth ACL"] = type(e).__name__
            seen["expired"] = handshake(s.tls_port, pki, pki.expired, "expired").split(" ")[0]
            stop(anon, c)
            results[s.kind] = seen
    assert results["zoopark"] == results["zookeeper"]
    expected_acl = ["CN=client,OU=test,O=zoopark"] if client_auth == "want" else "InvalidACLError"
    assert results["zoopark"]["auth ACL"] == expected_acl
    # want verifies a certificate that is sent: an expired one fails the handshake; none asks for none
    assert results["zoopark"]["expired"] == ("refused" if client_auth == "want" else "ok")


def test_addauth_x509_stands_on_the_connections_certificate(pki):
    """`addauth x509 <anything>`: with a certificate, its ids again (the data is not looked at); without one,
    AUTH_FAILED."""
    results = {}
    with both({**pki.server_pem(), "ssl.clientAuth": "want"}) as servers:
        for s in servers:
            c = kazoo(s.tls_port, pki, pki.client, "client")
            c.add_auth("x509", "CN=someone,O=else")
            c.create("/a", b"", acl=[make_acl("auth", "", all=True)])
            seen = {"with a certificate": [a.id.id for a in c.get_acls("/a")[0]]}
            stop(c)
            anon = kazoo(s.tls_port, pki, None, "anon")
            try:
                anon.add_auth("x509", "CN=client,OU=test,O=zoopark")
                seen["without"] = "ok"
            except AuthFailedError:
                seen["without"] = "AuthFailed"
            anon.stop()
            anon.close()
            results[s.kind] = seen
    assert results["zoopark"] == results["zookeeper"]
    assert results["zoopark"] == {"with a certificate": ["CN=client,OU=test,O=zoopark"], "without": "AuthFailed"}


def test_a_tls_port_authenticates_x509_without_auth_provider_x509(pki):
    """authProvider.x509 not set: ZooKeeper's Netty factory registers the X509 provider itself, so a client
    certificate still gives its x509 id."""
    results = {}
    with both(pki.server_pem()) as servers:
        for s in servers:
            c = kazoo(s.tls_port, pki, pki.client, "client")
            c.create("/x", b"", acl=[make_acl("x509", "CN=client,OU=test,O=zoopark", read=True)])
            try:
                c.get("/x")
                results[s.kind] = "read"
            except NoAuthError:
                results[s.kind] = "NoAuth"
            stop(c)
    assert results == {"zookeeper": "read", "zoopark": "read"}


def test_subjects_print_as_javas_x500principal(pki):
    """The x509 id of a certificate whose subject needs escapes, a multi-valued RDN and an attribute without an
    RFC 2253 keyword: as ZooKeeper prints it (the `auth` ACL shows the id)."""
    from cryptography import x509 as cx509
    from cryptography.x509.oid import NameOID

    subject = cx509.Name([
        cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]),
        cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme, Inc.")]),
        cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "a+b"),
                                         cx509.NameAttribute(NameOID.LOCALITY_NAME, "Köln")]),
        cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@example.org")]),
        cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.COMMON_NAME, " #odd \"name\" ")]),
    ])
    odd = issue(pki.ca, subject)
    ids = {}
    with both({**pki.server_pem(), **X509}) as servers:
        for s in servers:
            c = kazoo(s.tls_port, pki, odd, "odd")
            c.create("/o", b"", acl=[make_acl("auth", "", all=True)])
            ids[s.kind] = c.get_acls("/o")[0][0].id.id
            stop(c)
    assert ids["zoopark"] == ids["zookeeper"]


@pytest.mark.parametrize("store_type", ["PKCS12", "JKS"])
def test_keystores_made_by_keytool(pki, store_type):
    """ssl.keyStore/trustStore of type PKCS12 and JKS (made by the JDK's keytool) with their passwords; the
    password given through passwordPath for zoopark's trust store."""
    extra = {**pki.server_stores(store_type), **X509}
    results = {}
    with both(extra) as servers:
        for s in servers:
            c = kazoo(s.tls_port, pki, pki.client, "client")
            c.create("/k", b"", acl=[make_acl("auth", "", all=True)])
            results[s.kind] = [a.id.id for a in c.get_acls("/k")[0]]
            stop(c)
        conf = four_letter(servers[1].proc.port, "conf")
    assert results["zoopark"] == results["zookeeper"] == ["CN=client,OU=test,O=zoopark"]
    assert PASSWORD not in conf


def test_four_letter_words_and_bad_input_on_tls_and_plain_ports(pki):
    """Over TLS the secure port answers four-letter words; plain text on it and TLS on the plain port are
    closed without an answer; every other client carries on."""
    connect = struct.pack(">iiiqi16s", 44, 0, 0, 0, 30000, b"\0" * 16) + b"\0"
    results = {}
    with both(pki.server_pem()) as servers:
        for s in servers:
            seen = {"ruok over TLS": handshake(s.tls_port, pki, pki.client, "client").split(" ", 3)[3]}
            c = kazoo(s.tls_port, pki, pki.client, "client")
            seen["plain ConnectRequest on the TLS port"] = closed_without_answer(s.tls_port, connect)
            tls_hello = _client_hello()
            seen["TLS on the plain port"] = closed_without_answer(s.proc.port, tls_hello)
            seen["plain ruok on the plain port"] = four_letter(s.proc.port, "ruok")
            seen["TLS client still served"] = c.get("/")[1].version
            stop(c)
            results[s.kind] = seen
        zp_conf = four_letter(servers[1].proc.port, "conf")
    assert results["zoopark"] == results["zookeeper"]
    assert results["zoopark"]["ruok over TLS"] == "b'imok'"
    assert f"secureClientPort={servers[1].tls_port}" in zp_conf


def test_a_plain_four_letter_word_on_the_tls_port_waits_for_a_handshake(pki):
    """Four bytes are too few for a TLS record: both servers wait for more, then close the connection at their
    handshake timeout (10 s by default) without an answer."""
    with both(pki.server_pem()) as servers:
        results = {s.kind: closed_without_answer(s.tls_port, b"ruok", timeout_s=30) for s in servers}
    assert results == {"zookeeper": True, "zoopark": True}


def _client_hello() -> bytes:
    """The first bytes a TLS client sends (a ClientHello record), from Python's ssl over memory buffers."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def test_port_unification_serves_tls_and_plain_on_one_port(pki):
    """client.portUnification=true: clientPort takes TLS and plain clients, and plain four-letter words."""
    extra = {**pki.server_pem(), **X509, "client.portUnification": "true"}
    results = {}
    with both(extra, unified=True) as servers:
        for s in servers:
            t = kazoo(s.tls_port, pki, pki.client, "client")
            t.create("/u", b"", acl=[make_acl("auth", "", all=True)])
            plain = KazooClient(s.proc.hosts)
            plain.start(timeout=10)
            try:
                plain.get("/u")
                plain_read = "read"
            except NoAuthError:
                plain_read = "NoAuth"
            results[s.kind] = {"tls id": [a.id.id for a in t.get_acls("/u")[0]], "plain reads": plain_read,
                               "ruok": four_letter(s.proc.port, "ruok"),
                               "ruok over TLS": handshake(s.tls_port, pki, pki.client, "c").split(" ", 3)[3]}
            stop(t, plain)
    assert results["zoopark"] == results["zookeeper"]
    assert results["zoopark"]["plain reads"] == "NoAuth" and results["zoopark"]["ruok"] == "imok"


def _serving(port: int, pki: Pki) -> bool:
    try:
        return "Mode: standalone" in tls_four_letter(port, pki, "srvr")
    except OSError:
        return False


def test_a_server_with_only_a_secure_client_port(pki):
    """No clientPort: TLS clients only; conf says there is no plain port (clientPort=-1), as ZooKeeper's does."""
    confs, procs = {}, []
    try:
        for cls in (ZooKeeperProcess, ZooParkProcess):
            port = free_port()
            p = tls_only(cls)(extra={**NETTY, **pki.server_pem(), "secureClientPort": str(port)})
            procs.append(p)
            p.start(wait=False)
            deadline = time.monotonic() + 60
            while not _serving(port, pki):
                assert time.monotonic() < deadline, f"{p.kind} never served TLS:\n{p.log_tail()}"
                time.sleep(0.1)
            c = kazoo(port, pki, pki.client, "client", timeout=30)
            c.create("/only-tls", b"x")
            stop(c)
            confs[p.kind] = {k: v for k, v in (ln.split("=", 1) for ln in tls_four_letter(port, pki, "conf")
                                                .splitlines() if "=" in ln) if k in ("clientPort", "secureClientPort")}
            confs[p.kind]["secureClientPort"] = str(int(confs[p.kind]["secureClientPort"]) == port)
    finally:
        for p in procs:
            p.cleanup()
    assert confs["zoopark"] == confs["zookeeper"] == {"clientPort": "-1", "secureClientPort": "True"}


def test_no_password_in_logs_four_letter_words_or_admin(pki):
    extra = {**pki.server_stores("PKCS12"), "admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
             "admin.serverPort": str(free_port()), "ssl.quorum.keyStore.password": PASSWORD}
    tls_port = free_port()
    with ZooParkProcess(extra={**extra, "secureClientPort": str(tls_port)}) as zp:
        c = kazoo(tls_port, pki, pki.client, "client")
        shown = [four_letter(zp.port, w) for w in ("conf", "envi", "mntr", "srvr", "cons")]
        with urllib.request.urlopen(f"http://127.0.0.1:{extra['admin.serverPort']}/commands/connections",
                                    timeout=10) as r:
            cons = json.load(r)
        stop(c)
        for cmd in ("configuration", "initial_configuration", "environment"):
            url = f"http://127.0.0.1:{extra['admin.serverPort']}/commands/{cmd}"
            with urllib.request.urlopen(url, timeout=10) as r:
                shown.append(r.read().decode())
        shown.append(zp.log_path.read_text())
    assert all(PASSWORD not in text for text in shown)
    assert (len(cons["connections"]), len(cons["secure_connections"])) == (0, 1)  # the TLS client, apart
    assert "ssl.keyStore.password=********" in json.loads(shown[6])["initial_configuration"]


def test_a_failed_handshake_leaves_other_clients_alone(pki):
    with ZooParkProcess(extra={**pki.server_pem(), "secureClientPort": str(port := free_port())}) as zp:
        c = kazoo(port, pki, pki.client, "client")
        for _ in range(20):  # garbage, truncated hellos, untrusted certificates
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(_client_hello()[:30] + b"\xff" * 40)
            assert handshake(port, pki, pki.untrusted, "untrusted") == "refused"
        assert c.get("/")[1].version == 0
        stop(c)
        log = zp.log_path.read_text()
    assert log.count("TLS handshake failed with 127.0.0.1:") >= 20


def test_zkcli_over_tls_prints_the_same(pki, tmp_path):
    """zkCli (ZooKeeperMain, what zkCli.sh runs) with zookeeper.client.secure=true over Netty, a PEM keystore
    holding its key and certificate. Debian's zkCli.sh puts only zookeeper.jar on its class path, without
    Netty, so its secure client cannot start: the class path here is the server's (tests/procs.py)."""
    from test_clients_real import _mask

    client_pem = pki.client.pem(tmp_path / "zkcli.pem")
    flags = " ".join([
        "-Dzookeeper.client.secure=true", "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
        f"-Dzookeeper.ssl.keyStore.location={client_pem}", "-Dzookeeper.ssl.keyStore.type=PEM",
        f"-Dzookeeper.ssl.trustStore.location={pki.ca.cert_pem(pki.path('ca.pem'))}",
        "-Dzookeeper.ssl.trustStore.type=PEM"])
    script = "create /cli hello\nget /cli\ngetAcl /cli\nsetAcl /cli auth::cdrwa\ngetAcl /cli\nls /\nquit\n"
    outs = {}
    with both({**pki.server_pem(), **X509}) as servers:
        for s in servers:
            r = subprocess.run(["java", *flags.split(), "-cp", zk_classpath(), "org.apache.zookeeper.ZooKeeperMain",
                                "-server", f"127.0.0.1:{s.tls_port}"], input=script, text=True,
                               capture_output=True, timeout=120)
            outs[s.kind] = _mask(without_events(r.stdout))
    assert outs["zoopark"] == outs["zookeeper"]
    assert "'x509,'CN=client%2COU=test%2CO=zoopark" in outs["zoopark"], outs["zoopark"]


def test_config_errors_name_the_key(pki, tmp_path):
    from zoopark.config import ConfigError, parse_config

    base = f"dataDir={tmp_path}\nclientPort=2181\nsecureClientPort=2281\n"
    good = pki.server_pem()
    cases = {
        "ssl.keyStore.location": {"ssl.keyStore.location": str(tmp_path / "missing.pem")},
        "ssl.keyStore.location:": {**pki.server_stores("PKCS12"), "ssl.keyStore.password": "wrong"},
        "ssl.trustStore.location": {**pki.server_stores("JKS"), "ssl.trustStore.password": "wrong"},
        "ssl.clientAuth": {**good, "ssl.clientAuth": "maybe"},
        "ssl.keyStore.type": {**good, "ssl.keyStore.type": "BKS"},
        "ssl.ciphersuites": {**good, "ssl.ciphersuites": "TLS_FOO_WITH_BAR"},
        "ssl.enabledProtocols": {**good, "ssl.enabledProtocols": "SSLv3"},
        "ssl.authProvider": {**good, "ssl.authProvider": "sasl"},
        "ssl.protocol": {**good, "ssl.protocol": "TLSv1.3"},  # and ZooKeeper's TLS 1.2 default suites
    }
    for key, lines in cases.items():
        with pytest.raises(ConfigError) as e:
            parse_config(base + "".join(f"{k}={v}\n" for k, v in lines.items()), tmp_path)
        assert str(e.value).startswith(key.rstrip(":")), (key, str(e.value))
        assert PASSWORD not in str(e.value) and "wrong" not in str(e.value)
    no_keystore = f"dataDir={tmp_path}\nclientPort=2181\nzookeeper.client.portUnification=true\n"
    with pytest.raises(ConfigError, match="^ssl.keyStore.location"):
        parse_config(no_keystore, tmp_path)
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    stores = pki.server_stores("PKCS12")
    del stores["ssl.keyStore.password"]
    c = parse_config(base + "".join(f"{k}={v}\n" for k, v in stores.items()) +
                     f"zookeeper.ssl.keyStore.passwordPath={pw}\nclient.portUnification=true\n", tmp_path)
    assert c.ssl_key_store_password == PASSWORD and c.client_port_unification
    assert PASSWORD not in repr(c)
