"""Quorum SASL without sockets: the QuorumAuthPacket codec, DIGEST-MD5 with the quorum's names against a vector
Java's own SASL client and server produced (tests/java/QuorumDigestVector.java), the learner's and the server's
exchanges against each other, and bad input, which fails the exchange and never raises. The zoo.cfg keys and
their checks (QuorumPeerConfig's) are at the end."""

from __future__ import annotations

import base64
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoopark.config import ConfigError, parse_config
from zoopark.core.jute import quorumauth as wire
from zoopark.core.jute.quorumauth import AuthStatus, QuorumAuthPacket
from zoopark.core.server.quorumauth import PROTOCOL, SERVER_NAME, QuorumAuthLearner, QuorumAuthServer
from zoopark.core.server.sasl import DigestMD5Client, DigestMD5Server, SaslError

# `java QuorumDigestVector learner1 learner-pw` (JDK 17): Java's DigestMD5Server and DigestMD5Client, created as
# ZooKeeper's SaslQuorumAuthServer and SaslQuorumAuthLearner create them.
JAVA_CHALLENGE = (b'realm="zk-quorum-sasl-md5",nonce="MC2JZwKGFKquOrZ32WHQvc5oUYBrsUpP1FJHu4Hh",charset=utf-8,'
                  b"algorithm=md5-sess")
JAVA_RESPONSE = (b'charset=utf-8,username="learner1",realm="zk-quorum-sasl-md5",'
                 b'nonce="MC2JZwKGFKquOrZ32WHQvc5oUYBrsUpP1FJHu4Hh",nc=00000001,'
                 b'cnonce="Hx9lk+oBVPXRON4G3/gWQohx27mIGI90jjR2Czbd",digest-uri="zookeeper-quorum/zk-quorum-sasl-md5",'
                 b'maxbuf=65536,response=764cbee5b2cd4e559a5305031539f36c,qop=auth,authzid="learner1"')
JAVA_RSPAUTH = b"rspauth=4a5f2054f02d5b85d7ada895afa302e4"
JAVA_NONCE = base64.b64decode("MC2JZwKGFKquOrZ32WHQvc5oUYBrsUpP1FJHu4Hh")
JAVA_CNONCE = "Hx9lk+oBVPXRON4G3/gWQohx27mIGI90jjR2Czbd"
USERS = {"learner1": "learner-pw", "learner2": "other-pw"}
NONCE = bytes(range(30))
CNONCE = bytes(range(100, 130))


def quorum_server(nonce: bytes = JAVA_NONCE) -> DigestMD5Server:
    return DigestMD5Server(USERS, nonce, realm=SERVER_NAME, protocol=PROTOCOL, server_name=SERVER_NAME,
                           authzid_is_user=True)


# ---- the codec -------------------------------------------------------------------------------------------


def test_the_magic_is_javas_long_as_it_goes_on_the_wire():
    # -0xa0dbcafecafe1234L in Java: 0xa0dbcafecafe1234 already overflows to a negative long, and its negation
    # is positive.
    assert wire.MAGIC_BYTES.hex() == "5f2435013501edcc"
    assert QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode().hex() == "5f2435013501edcc" "00000000" "00000000"
    assert QuorumAuthPacket(AuthStatus.ERROR, None).encode().hex() == "5f2435013501edcc" "ffffffff" "ffffffff"
    assert QuorumAuthPacket(AuthStatus.SUCCESS, b"ab").encode().hex() == \
        "5f2435013501edcc" "00000001" "00000002" "6162"


def test_packets_parse_back_and_wait_for_their_last_byte():
    data = QuorumAuthPacket(AuthStatus.SUCCESS, b"token").encode() + QuorumAuthPacket(AuthStatus.ERROR, None).encode()
    for cut in range(21):
        assert wire.parse(data[:cut]) is None
    p, end = wire.parse(data)
    assert (p.status, p.token, p.magic, end) == (AuthStatus.SUCCESS, b"token", wire.MAGIC, 21)
    assert wire.parse(data, end) == (QuorumAuthPacket(AuthStatus.ERROR, None), len(data))
    assert wire.starts_with_magic(data[:7]) is None and wire.starts_with_magic(data) is True
    assert wire.starts_with_magic(b"\x00\x00\x00\x1c\x00\x00\x00\x01") is False  # an election message


@pytest.mark.parametrize("length", [-2, wire.TOKEN_MAX_BYTES + 1, 0x7FFFFFFF])
def test_a_token_length_out_of_range_is_refused_before_waiting_for_it(length):
    head = wire.MAGIC_BYTES + (0).to_bytes(4, "big") + length.to_bytes(4, "big", signed=True)
    with pytest.raises(wire.QuorumAuthWireError, match=f"token length {length} out of range"):
        wire.parse(head)


# ---- DIGEST-MD5 with the quorum's names, against Java ----------------------------------------------------


def test_the_quorum_server_challenges_answers_and_signs_as_java_does():
    s = quorum_server()
    assert s.evaluate(b"") == JAVA_CHALLENGE
    assert s.evaluate(JAVA_RESPONSE) == JAVA_RSPAUTH
    assert s.complete and s.authorization_id == "learner1"


def test_the_learner_answers_javas_challenge_with_javas_bytes_and_accepts_its_rspauth():
    c = DigestMD5Client("learner1", "learner-pw", JAVA_CNONCE, PROTOCOL, SERVER_NAME)
    assert c.evaluate(JAVA_CHALLENGE) == JAVA_RESPONSE
    assert not c.complete
    assert c.evaluate(JAVA_RSPAUTH) is None
    assert c.complete


def test_the_learner_refuses_an_rspauth_that_does_not_prove_the_password():
    c = DigestMD5Client("learner1", "learner-pw", JAVA_CNONCE, PROTOCOL, SERVER_NAME)
    c.evaluate(JAVA_CHALLENGE)
    with pytest.raises(SaslError, match="rspauth value does not match"):
        c.evaluate(b"rspauth=00000000000000000000000000000000")
    assert not c.complete


def test_the_client_ports_names_are_refused_by_the_quorum_server_and_vice_versa():
    c = DigestMD5Client("learner1", "learner-pw", JAVA_CNONCE, "zookeeper", "zk-sasl-md5")
    s = quorum_server()
    with pytest.raises(SaslError, match="Nonexistent digest-uri: zookeeper/zk-sasl-md5"):
        s.evaluate(c.evaluate(s.evaluate(b"")))
    client_port = DigestMD5Server(USERS, JAVA_NONCE)
    with pytest.raises(SaslError, match="Nonexistent realm: zk-quorum-sasl-md5"):
        client_port.evaluate(b""), client_port.evaluate(JAVA_RESPONSE)


def test_the_quorum_server_refuses_a_learner_acting_as_another_user():
    s = quorum_server()
    s.evaluate(b"")
    c = DigestMD5Client("learner1", "learner-pw", JAVA_CNONCE, PROTOCOL, SERVER_NAME)
    response = c.evaluate(JAVA_CHALLENGE).replace(b'authzid="learner1"', b'authzid="learner2"')
    with pytest.raises(SaslError, match="learner1 is not authorized to act as learner2"):
        s.evaluate(response)


# ---- the two exchanges --------------------------------------------------------------------------------


def run(learner: QuorumAuthLearner, server: QuorumAuthServer, after_l: bytes = b"", after_s: bytes = b"",
        chunk: int = 1 << 20) -> None:
    """Both sides over a lossless pipe, `chunk` bytes at a time. `after_l` / `after_s`: what each side writes
    right behind its exchange (a learner's first QuorumPacket, an election notification)."""
    to_server = bytearray(learner.start())
    to_learner = bytearray()
    for _ in range(10_000):
        if not to_server and not to_learner:
            return
        part = bytes(to_server[:chunk])
        del to_server[:chunk]
        to_learner += server.feed(part)
        if server.done and after_s:
            to_learner += after_s
            after_s = b""
        part = bytes(to_learner[:chunk])
        del to_learner[:chunk]
        to_server += learner.feed(part)
        if learner.done and after_l:
            to_server += after_l
            after_l = b""
    raise AssertionError("the exchange did not end")


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_a_learner_with_the_right_password_authenticates_and_the_bytes_behind_pass_through(chunk):
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    server = QuorumAuthServer(USERS, NONCE, required=True)
    followerinfo = b"\x00\x00\x00\x0b" + bytes(20)
    notification = b"\x00\x00\x00\x28" + bytes(40)
    run(learner, server, after_l=followerinfo, after_s=notification, chunk=chunk)
    assert server.done and server.authenticated and server.keep and server.user == "learner1"
    assert learner.done and learner.authenticated
    assert server.leftover == followerinfo
    assert learner.leftover == notification


def test_the_exchange_packet_by_packet_is_zookeepers():
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    server = QuorumAuthServer(USERS, NONCE, required=True)
    first = learner.start()
    assert first == QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode()
    challenge = server.feed(first)
    p, _ = wire.parse(challenge)
    assert p.status == AuthStatus.IN_PROGRESS and p.token.startswith(b'realm="zk-quorum-sasl-md5",nonce="')
    response = learner.feed(challenge)
    p, _ = wire.parse(response)
    assert p.status == AuthStatus.IN_PROGRESS and b'digest-uri="zookeeper-quorum/zk-quorum-sasl-md5"' in p.token
    success = server.feed(response)
    p, _ = wire.parse(success)
    assert p.status == AuthStatus.SUCCESS and p.token.startswith(b"rspauth=")
    assert learner.feed(success) == b"" and learner.authenticated


@pytest.mark.parametrize("required", [True, False])
def test_a_wrong_password_gets_an_error_packet_and_fails_both_sides(required):
    learner = QuorumAuthLearner("learner1", "not-the-password", CNONCE)
    server = QuorumAuthServer(USERS, NONCE, required=required)
    response = learner.feed(server.feed(learner.start()))
    answer = server.feed(response)
    assert wire.parse(answer)[0] == QuorumAuthPacket(AuthStatus.ERROR, b"")
    assert server.done and not server.authenticated and server.keep is (not required)
    assert "Mismatched response" in server.reason and "not-the-password" not in server.reason
    assert server.user == "learner1"
    learner.feed(answer)
    assert learner.done and not learner.authenticated and "ERROR" in learner.reason


def test_an_unknown_user_is_refused():
    learner = QuorumAuthLearner("mallory", "x", CNONCE)
    server = QuorumAuthServer(USERS, NONCE, required=True)
    server.feed(learner.feed(server.feed(learner.start())))
    assert server.done and not server.keep and "cannot acquire password for mallory" in server.reason


@pytest.mark.parametrize("required", [True, False])
def test_a_peer_that_does_not_authenticate_is_refused_only_when_required(required):
    server = QuorumAuthServer(USERS, NONCE, required=required)
    notification = b"\x00\x00\x00\x28" + bytes(40)
    assert server.feed(notification[:7]) == b"" and not server.done  # it peeks at 8 bytes
    assert server.feed(notification[7:]) == b""
    assert server.done and not server.authenticated and server.keep is (not required)
    assert server.reason == "not trying to authenticate"
    assert server.leftover == notification  # peeked, not consumed: the link protocol reads them


def test_an_exchange_cut_short_fails_with_its_reason():
    server = QuorumAuthServer(USERS, NONCE, required=True)
    server.feed(QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode())
    assert wire.parse(server.fail("the peer closed the connection"))[0].status == AuthStatus.ERROR
    assert server.reason == "the peer closed the connection" and not server.keep
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    learner.start()
    learner.fail("no quorum SASL exchange within 10 s")
    assert learner.done and not learner.authenticated


def test_a_null_token_is_refused_and_an_initial_response_ignored():
    server = QuorumAuthServer(USERS, NONCE, required=True)
    server.feed(QuorumAuthPacket(AuthStatus.IN_PROGRESS, None).encode())
    assert server.done and "null" in server.reason
    # ZooKeeper on JDK 17 ignores it and challenges (tests/test_quorum_sasl.py compares them live)
    server = QuorumAuthServer(USERS, NONCE, required=True)
    p, _ = wire.parse(server.feed(QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"username=x").encode()))
    assert not server.done and p.status == AuthStatus.IN_PROGRESS and p.token.startswith(b'realm="zk-quorum')


def test_the_learner_refuses_a_success_without_a_proof_and_answers_to_an_unknown_status():
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    learner.start()
    learner.feed(QuorumAuthPacket(AuthStatus.SUCCESS, b"").encode())
    assert learner.done and not learner.authenticated
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    learner.start()
    learner.feed(QuorumAuthPacket(7, b"").encode())
    assert learner.done and not learner.authenticated and "unknown status 7" in learner.reason


def test_a_first_packet_that_cannot_be_read_is_not_answered():
    """SaslQuorumAuthServer opens its output only after reading the first packet: an unreadable one gets no
    ERROR packet, just the close."""
    server = QuorumAuthServer(USERS, NONCE, required=True)
    assert server.feed(wire.MAGIC_BYTES + bytes(4) + (0x7FFFFFFF).to_bytes(4, "big")) == b""
    assert server.done and not server.keep and "token length 2147483647 out of range" in server.reason
    server = QuorumAuthServer(USERS, NONCE, required=True)
    server.feed(wire.MAGIC_BYTES + bytes(3))
    assert server.fail("the peer closed the connection") == b""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64), st.booleans())
def test_garbage_never_raises_and_ends_the_exchange_or_waits(data, chunk, magic_first):
    """Whatever a peer sends, each side either waits for more, or is done with a reason; nothing raises."""
    data = (wire.MAGIC_BYTES + data) if magic_first else data
    server = QuorumAuthServer(USERS, NONCE, required=True)
    learner = QuorumAuthLearner("learner1", "learner-pw", CNONCE)
    learner.start()
    for i in range(0, len(data), chunk):
        server.feed(data[i:i + chunk])
        learner.feed(data[i:i + chunk])
    for side in (server, learner):
        assert side.authenticated is False
        if side.done:
            assert side.reason
        else:
            side.fail("closed")
            assert side.done and not side.authenticated


# ---- the zoo.cfg keys ----------------------------------------------------------------------------------

QUORUM_JAAS = """\
QuorumServer {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_learner1="learner-pw";
};
QuorumLearner {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="learner1"
  password="learner-pw";
};
"""


def conf(tmp_path, lines: str, jaas: str | None = QUORUM_JAAS):
    text = f"dataDir={tmp_path}\nclientPort=2181\n" + lines
    if jaas is not None:
        (tmp_path / "quorum.jaas").write_text(jaas)
        text += f"java.security.auth.login.config={tmp_path / 'quorum.jaas'}\n"
    return parse_config(text)


def test_the_quorum_auth_keys_are_read_with_zookeepers_defaults(tmp_path):
    c = conf(tmp_path, "")
    assert (c.quorum_auth_enable_sasl, c.quorum_auth_learner_require_sasl, c.quorum_auth_server_require_sasl) == \
        (False, False, False)
    assert (c.quorum_auth_server_login_context, c.quorum_auth_learner_login_context) == \
        ("QuorumServer", "QuorumLearner")
    c = conf(tmp_path, "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"
                       "quorum.auth.serverRequireSasl=true\n")
    assert (c.quorum_auth_enable_sasl, c.quorum_auth_learner_require_sasl, c.quorum_auth_server_require_sasl) == \
        (True, True, True)
    assert c.ignored == ()
    assert "learner-pw" not in repr(c)


@pytest.mark.parametrize(("lines", "message"), [
    ("quorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n",
     "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl"),
    ("quorum.auth.learnerRequireSasl=true\n",
     "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl"),
    ("quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n",
     "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl"),
    ("quorum.auth.enableSasl=maybe\n", "quorum.auth.enableSasl"),
])
def test_zookeepers_contradictions_stop_start_up_with_its_message(tmp_path, lines, message):
    with pytest.raises(ConfigError, match=message):
        conf(tmp_path, lines)


def test_a_missing_section_or_a_learner_without_credentials_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="section 'QuorumServer' could not be found"):
        conf(tmp_path, "quorum.auth.enableSasl=true\n", QUORUM_JAAS.replace("QuorumServer", "Other"))
    with pytest.raises(ConfigError, match="section 'Elsewhere' could not be found"):
        conf(tmp_path, "quorum.auth.enableSasl=true\nquorum.auth.learner.saslLoginContext=Elsewhere\n")
    with pytest.raises(ConfigError, match="needs a JAAS file"):
        conf(tmp_path, "quorum.auth.enableSasl=true\n", None)
    no_password = QUORUM_JAAS.replace('\n  password="learner-pw"', "")
    assert conf(tmp_path, "quorum.auth.enableSasl=true\n", no_password).quorum_auth_enable_sasl
    with pytest.raises(ConfigError, match="no username and password") as e:
        conf(tmp_path, "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n", no_password)
    assert "learner-pw" not in str(e.value)
    kerberos = QUORUM_JAAS.replace("org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_",
                                   "com.sun.security.auth.module.Krb5LoginModule required\n  user_")
    with pytest.raises(ConfigError, match="DIGEST-MD5 only"):
        conf(tmp_path, "quorum.auth.enableSasl=true\n", kerberos)


def test_the_login_contexts_can_be_renamed(tmp_path, caplog):
    renamed = QUORUM_JAAS.replace("QuorumServer", "QS").replace("QuorumLearner", "QL")
    with caplog.at_level(logging.INFO, logger="zoopark.config"):
        c = conf(tmp_path, "quorum.auth.enableSasl=true\nquorum.auth.server.saslLoginContext=QS\n"
                           "quorum.auth.learner.saslLoginContext=QL\n", renamed)
    assert (c.quorum_auth_server_login_context, c.quorum_auth_learner_login_context) == ("QS", "QL")
    assert "accepts but does not implement" not in caplog.text
