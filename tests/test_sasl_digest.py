"""The DIGEST-MD5 server (zoopark.core.server.sasl) against pure-sasl's client, kazoo's SASL library, and the
JAAS file parser."""

from __future__ import annotations

import pytest
from puresasl.client import SASLClient

from zoopark import jaas
from zoopark.core.server.sasl import (
    TOKEN_MAX_BYTES,
    DigestMD5Server,
    SaslError,
    authorized_id,
    parse_directives,
)

USERS = {"alice": "alice-pw", "bob": "bob-pw"}
NONCE = bytes(range(30))


def exchange(user: str, password: str, server: DigestMD5Server | None = None) -> DigestMD5Server:
    """kazoo's loop (KazooClient._authenticate_with_sasl) with the server in place of the socket."""
    server = server or DigestMD5Server(USERS, NONCE)
    cli = SASLClient("zk-sasl-md5", "zookeeper", mechanism="DIGEST-MD5", username=user, password=password)
    challenge = None
    for _ in range(4):
        response = cli.process(challenge)
        if cli.complete and not response:
            break
        challenge = server.evaluate(response or b"")
    assert cli.complete, "the client did not accept the server's rspauth"
    return server


def test_the_first_challenge_is_javas():
    s = DigestMD5Server(USERS, NONCE)
    assert s.evaluate(b"") == (b'realm="zk-sasl-md5",nonce="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",'
                               b"charset=utf-8,algorithm=md5-sess")
    assert not s.complete


# (pure-sasl hashes non-ASCII names and passwords as UTF-8, Java as ISO 8859-1 where it can, RFC 2831 §2.1.2.1:
# such a user fails against ZooKeeper and zoopark alike, so only ASCII is exchanged here.)
@pytest.mark.parametrize("user", sorted(USERS))
def test_a_valid_exchange_completes_with_the_user_name_as_id(user):
    s = exchange(user, USERS[user])
    assert s.complete
    assert s.authorization_id == user


@pytest.mark.parametrize(("user", "password", "message"), [
    ("alice", "wrong", "Mismatched response"),
    ("carol", "x", "cannot acquire password for carol"),
])
def test_bad_credentials_are_refused_with_javas_reason(user, password, message):
    with pytest.raises(SaslError, match=message):
        exchange(user, password)


def test_a_response_for_another_nonce_is_refused():
    other = DigestMD5Server(USERS, bytes(30 * [7]))
    cli = SASLClient("zk-sasl-md5", "zookeeper", mechanism="DIGEST-MD5", username="alice", password="alice-pw")
    cli.process(None)
    response = cli.process(other.evaluate(b""))
    s = DigestMD5Server(USERS, NONCE)
    s.evaluate(b"")
    with pytest.raises(SaslError, match="Mismatched nonce"):
        s.evaluate(response)


@pytest.mark.parametrize("token", [
    b"\xff\xfe garbage", b"no equals sign", b'username="unterminated', b"username=a,username=b",
    b"x" * 5000, b"username=alice", b"=,=,=", b'nonce="x",nc=1,cnonce=a,username=a,digest-uri=zookeeper/zk-sasl-md5,'
    b"response=00",
])
def test_garbage_second_tokens_are_refused_cleanly(token):
    s = DigestMD5Server(USERS, NONCE)
    s.evaluate(b"")
    with pytest.raises(SaslError):
        s.evaluate(token)
    assert not s.complete and s.authorization_id is None


@pytest.mark.parametrize("first", [b"x", b"\x00garbage\xff", b"username=alice", b"x" * TOKEN_MAX_BYTES])
def test_an_initial_response_is_ignored_and_challenged_as_on_jdk_17(first):
    s = DigestMD5Server(USERS, NONCE)
    fresh = DigestMD5Server(USERS, NONCE)
    assert s.evaluate(first) == fresh.evaluate(b"")
    assert not s.complete


def test_an_oversized_first_token_and_a_third_round_are_refused():
    with pytest.raises(SaslError, match="Invalid digest response length. Got:  4097 Expected < 4096"):
        DigestMD5Server(USERS, NONCE).evaluate(b"x" * (TOKEN_MAX_BYTES + 1))
    s = exchange("alice", "alice-pw")
    with pytest.raises(SaslError, match="already completed"):
        s.evaluate(b"")


def test_directives_quoted_and_bare():
    assert parse_directives(b'a="x,\\"y",b=1, c = "" ') == {"a": 'x,"y', "b": "1", "c": ""}


JAAS = """\
// ZooKeeper's example
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"   /* the super user */
  user_bob="bob\\"secret";
  # a second entry adds users too
  other.Module optional user_carol=plain;
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret";
};
"""


def test_jaas_server_section_users():
    sections = jaas.parse(JAAS)
    assert sorted(sections) == ["Client", "Server"]
    assert jaas.digest_users(sections["Server"]) == {"super": "adminsecret", "bob": 'bob"secret', "carol": "plain"}
    assert sections["Client"][0].options == {"username": "bob", "password": "bobsecret"}
    assert "bobsecret" not in repr(sections)  # options may hold passwords


@pytest.mark.parametrize(("text", "message"), [
    ("Server { a.B required x=1 }; ", "line 1: expected word, found .}"),
    ("Server { a.B mandatory; };", "not a control flag"),
    ("Server {\n a.B required x=;\n};", "line 2"),
    ("Server { a.B required", "end of file"),
])
def test_jaas_errors_name_the_place(text, message):
    with pytest.raises(jaas.JaasError, match=message):
        jaas.parse(text)


def test_jvm_flag_property():
    flags = '-Xmx1g -Djava.security.auth.login.config=/etc/zk/jaas.conf -Dzookeeper.x=1'
    assert jaas.jvm_flag_property(flags, jaas.JAAS_PROPERTY) == "/etc/zk/jaas.conf"
    assert jaas.jvm_flag_property('-Djava.security.auth.login.config="/a b"', jaas.JAAS_PROPERTY) == "/a b"
    assert jaas.jvm_flag_property("-Xmx1g", jaas.JAAS_PROPERTY) is None


@pytest.mark.parametrize(("name", "host", "realm", "want"), [
    ("alice", False, False, "alice"),  # a DIGEST-MD5 user
    ("alice@EXAMPLE.COM", False, False, "alice@EXAMPLE.COM"),
    ("alice@EXAMPLE.COM", False, True, "alice"),
    ("zk/h1.example.com@EXAMPLE.COM", False, False, "zk/h1.example.com@EXAMPLE.COM"),
    ("zk/h1.example.com@EXAMPLE.COM", True, False, "zk@EXAMPLE.COM"),
    ("zk/h1.example.com@EXAMPLE.COM", True, True, "zk"),
    ("alice@OTHER.ORG", True, True, "alice@OTHER.ORG"),  # no auth_to_local rule: ZooKeeper keeps the name
])
def test_authorized_ids_as_zookeepers_callback_handler_makes_them(name, host, realm, want):
    assert authorized_id(name, "EXAMPLE.COM", host, realm) == want
