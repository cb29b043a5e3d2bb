"""The pure parts of client TLS, without sockets: x509 ids in the core, the x509 ACL scheme, TLS sans I/O,
Java's names for subjects and cipher suites, JKS files, secrets kept out of shown configuration."""

from __future__ import annotations

import ssl

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoopark.config import redacted, secret
from zoopark.core.jute.records import ACL, Id
from zoopark.core.server.actions import Connected
from zoopark.core.server.settings import CoreSettings
from zoopark.core.tree import acl as aclmod
from zoopark.net import jks, tls

from certs import PASSWORD, Pki, keytool_keystore, keytool_truststore
from corehelp import Harness
from references import needs

SUBJECT = "CN=client,OU=test,O=zoopark"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.make(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize("x509_auth,super_user,subject,expected", [
    (True, None, SUBJECT, [("ip", "127.0.0.1"), ("x509", SUBJECT)]),
    (True, SUBJECT, SUBJECT, [("ip", "127.0.0.1"), ("super", SUBJECT), ("x509", SUBJECT)]),
    (True, "CN=other", SUBJECT, [("ip", "127.0.0.1"), ("x509", SUBJECT)]),
    (True, SUBJECT, None, [("ip", "127.0.0.1")]),  # no certificate (clientAuth want or none, a plain port)
    (False, SUBJECT, SUBJECT, [("ip", "127.0.0.1")]),  # no x509 provider registered
])
def test_a_connection_gets_its_certificates_ids_in_the_core(x509_auth, super_user, subject, expected):
    schemes = frozenset({"digest", "ip", "x509"} if x509_auth else {"digest", "ip"})
    h = Harness(CoreSettings(auth_schemes=schemes, x509_super_user=super_user))
    h.step(Connected(7, "127.0.0.1", 5000, x509_subject=subject))
    assert [(i.scheme, i.id) for i in h.core.conns[7].auth] == expected


def test_x509_acl_scheme():
    me = [Id("ip", "127.0.0.1"), Id("x509", SUBJECT)]
    mine = (ACL(aclmod.READ, Id("x509", SUBJECT)),)
    assert aclmod.check(mine, aclmod.READ, me)
    assert not aclmod.check(mine, aclmod.READ, [Id("x509", "CN=other")])
    assert not aclmod.check(mine, aclmod.WRITE, me)
    assert aclmod.check(mine, aclmod.WRITE, [Id("super", "CN=admin"), Id("x509", "CN=admin")])
    # "auth" stands for the x509 id too (X509AuthenticationProvider.isAuthenticated)
    tls = frozenset({"digest", "ip", "x509"})  # the schemes registered on a server that serves TLS
    assert aclmod.fixup([ACL(31, Id("auth", ""))], me, tls) == (ACL(31, Id("x509", SUBJECT)),)
    # X500Principal parses these; not these
    for good in (SUBJECT, "CN=a, OU=b", "", "CN=a\\,b", 'CN="a,b"', "1.2.3=#0403", "CN=a+OU=b", "cn=x;o=y"):
        assert aclmod.id_valid(Id("x509", good), tls), good
    for bad in ("garbage", "FOO=bar", "CN=a,oops"):
        assert not aclmod.id_valid(Id("x509", bad), tls), bad
    assert not aclmod.id_valid(Id("x509", SUBJECT))  # no TLS, no X509 provider: INVALIDACL as in ZooKeeper


def _client_context(pki: Pki, ident) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_pem(pki.path("ca.pem"))))
    if ident is not None:
        files = pki.client_files(ident, "unit")
        ctx.load_cert_chain(files["certfile"], files["keyfile"])
    return ctx


def _handshake(server: tls.TlsSession, client: ssl.SSLObject, cin: ssl.MemoryBIO, cout: ssl.MemoryBIO) -> None:
    """Pass bytes both ways until the client's handshake is done (or either side raises); bounded."""
    for _ in range(10):
        try:
            client.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = cout.read()
        if data:
            assert server.receive(data) == b""  # no plaintext during the handshake; SSLError if refused
            cin.write(server.outgoing())
        if done and server.handshaken:
            return
    raise AssertionError("no handshake in 10 round trips")


@pytest.mark.parametrize("client_auth,who,outcome", [
    ("need", "client", SUBJECT), ("need", None, "refused"), ("need", "expired", "refused"),
    ("need", "untrusted", "refused"), ("want", None, None), ("want", "client", SUBJECT), ("none", "client", None),
])
def test_tls_session_over_memory(pki, client_auth, who, outcome):
    s = pki.server_pem()
    ctx = tls.server_context(tls.TlsSettings(s["ssl.keyStore.location"], None, "PEM",
                                             s["ssl.trustStore.location"], None, "PEM", client_auth=client_auth))
    server = tls.TlsSession(ctx)
    cin, cout = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = _client_context(pki, getattr(pki, who) if who else None).wrap_bio(cin, cout,
                                                                                 server_hostname="localhost")
    try:
        _handshake(server, client, cin, cout)
    except ssl.SSLError:
        assert outcome == "refused"
        return
    assert outcome != "refused"
    der = server.peer_certificate()
    assert (tls.java_subject(der) if der else None) == outcome
    client.write(b"ruok")
    assert server.receive(cout.read()) == b"ruok"
    server.send(b"imok")
    cin.write(server.outgoing())
    assert client.read() == b"imok"
    assert server.describe().startswith("TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256")


def test_port_unification_tells_tls_by_its_first_byte():
    assert tls.looks_like_tls(b"\x16\x03\x01\x02\x00")
    assert not tls.looks_like_tls(b"ruok")
    assert not tls.looks_like_tls(b"\x00\x00\x00\x2c")  # a ConnectRequest's length


@pytest.mark.parametrize("java,openssl_name", [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
    ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
])
def test_java_cipher_suite_names_map_to_openssls(java, openssl_name):
    assert tls.openssl_cipher(java) == openssl_name
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(openssl_name)  # OpenSSL knows the name
    assert openssl_name in [c["name"] for c in ctx.get_ciphers()]


def test_zookeepers_default_cipher_suites_all_map():
    names = [tls.openssl_cipher(c) for c in tls.DEFAULT_CIPHERS_JAVA]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(":".join(names))
    assert set(names) <= {c["name"] for c in ctx.get_ciphers()}


def test_subject_escapes(pki):
    der = pki.client.cert.public_bytes(serialization.Encoding.DER)
    assert tls.java_subject(der) == SUBJECT
    assert tls._escape(' #a,b+c"d\\e<f>g;h ') == '\\ \\#a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\ '


@needs("keytool")
def test_jks_files_made_by_keytool(pki, tmp_path):
    ks = keytool_keystore(pki.server, tmp_path / "k.jks", "JKS").read_bytes()
    key, chain = jks.load_key(ks, PASSWORD)
    assert [c.subject for c in chain] == [pki.server.cert.subject, pki.ca.cert.subject]
    assert key.public_key().public_numbers() == pki.server.key.public_key().public_numbers()
    ts = keytool_truststore(pki.ca, tmp_path / "t.jks", "JKS").read_bytes()
    assert jks.load_trusted(ts, PASSWORD) == [pki.ca.cert]
    assert jks.load_trusted(ts, None) == [pki.ca.cert]  # Java reads a trust store without its password too
    with pytest.raises(jks.JksError):
        jks.load_key(ks, "wrong")
    with pytest.raises(jks.JksError):
        jks.load_key(b"\xfe\xed\xfe\xed" + b"\x00" * 40, PASSWORD)
    with pytest.raises(jks.JksError):
        jks.load_key(ks[: len(ks) // 2], PASSWORD)


def test_secrets_are_masked():
    assert secret("ssl.keyStore.password") and secret("zookeeper.ssl.quorum.trustStore.password")
    assert not secret("ssl.keyStore.passwordPath") and not secret("ssl.keyStore.location")
    text = "dataDir=/d\nssl.keyStore.password = hunter2\n# ssl.trustStore.password=kept\nzookeeper.ssl.trustStore.password:x\n"
    assert redacted(text) == ("dataDir=/d\nssl.keyStore.password = ********\n# ssl.trustStore.password=kept\n"
                              "zookeeper.ssl.trustStore.password:********\n")
    assert "hunter2" not in repr(tls.TlsSettings(key_store_password="hunter2"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5), hello=st.booleans())
def test_any_bytes_are_plaintext_or_an_ssl_error(pki, chunks, hello):
    """Whatever a peer sends (random bytes, or a real ClientHello followed by them), a TLS session either waits
    for more, or raises SSLError for the connection to log and close: nothing else escapes."""
    s = pki.server_pem()
    session = tls.TlsSession(tls.server_context(tls.TlsSettings(s["ssl.keyStore.location"], None, "PEM",
                                                                s["ssl.trustStore.location"], None, "PEM")))
    if hello:
        outgoing = ssl.MemoryBIO()
        client = _client_context(pki, pki.client).wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
        with pytest.raises(ssl.SSLWantReadError):
            client.do_handshake()
        chunks = [outgoing.read(), *chunks]
    try:
        for c in chunks:
            assert session.receive(c) == b""  # never plaintext before a finished handshake
            session.outgoing()
    except ssl.SSLError:
        pass
    assert not session.handshaken


def test_store_type_from_the_file_name_as_keystorefiletype():
    assert [tls.store_type(f"/s/k{ext}", None, "ssl.keyStore.type") for ext in (".pem", ".P12", ".jks")] == \
        ["PEM", "PKCS12", "JKS"]
    assert tls.store_type("/s/k.jks", "pkcs12", "ssl.keyStore.type") == "PKCS12"  # the type given wins
    for name in ("/s/k.pfx", "/s/k.crt", "/s/k.bcfks", "/s/k"):
        with pytest.raises(tls.TlsConfigError, match="^ssl.keyStore.type: not set"):
            tls.store_type(name, None, "ssl.keyStore.type")
