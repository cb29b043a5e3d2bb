"""Quorum SASL (quorum.auth.*) in mixed ensembles of zoopark and ZooKeeper 3.8 members: DIGEST-MD5 between
members on the election and quorum ports, with zoopark leading ZooKeeper followers and following a ZooKeeper
leader, over plain sockets and over sslQuorum; a member with a wrong password refused while the others carry on
(a zoopark one and a ZooKeeper one, side by side); a member that does not authenticate at all, let in when the
others do not require SASL and refused when they do. The exchange itself is tested without sockets in
tests/test_quorum_sasl_core.py."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from test_quorum_tls import commit_everywhere, pki, quorum_tls, wait_for_log  # noqa: F401 - pki: a fixture
from zoopark.core.jute import quorumauth
from zoopark.core.jute.election import InitialMessage
from zoopark.core.jute.quorumauth import MAGIC_BYTES, AuthStatus, QuorumAuthPacket

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

pytestmark = [pytest.mark.xdist_group("ensembles"), needs("zookeeper")]

PASSWORDS = {1: "pw-one", 2: "pw-two", 3: "pw-three"}
WRONG = "not-pw-three"


def jaas_file(directory: Path, my_id: int, password: str | None) -> Path:
    """Member `my_id`'s JAAS file: every member as a QuorumServer user; its own name and `password` as
    QuorumLearner (no QuorumLearner credentials when None: a member that does not authenticate)."""
    users = "\n".join(f'  user_learner{i}="{pw}"' for i, pw in PASSWORDS.items())
    learner = (f'  username="learner{my_id}"\n  password="{password}"' if password is not None else "")
    text = (f"QuorumServer {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n{users};\n}};\n"
            f"QuorumLearner {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n{learner};\n}};\n")
    path = directory / f"member{my_id}.jaas"
    path.write_text(text)
    return path


def sasl_keys(learner: bool = True, server: bool = True) -> dict[str, str]:
    return {"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": str(learner).lower(),
            "quorum.auth.serverRequireSasl": str(server).lower()}


def sasl_member(cls: type[ServerProcess], my_id: int, extra: dict[str, str], jaas: Path) -> ServerProcess:
    """A member reading `jaas`: ZooKeeper from the JVM property (as zkServer.sh's SERVER_JVMFLAGS sets it, at
    info level so its SASL lines show), zoopark from zoo.cfg."""
    if cls is ZooKeeperProcess:
        return member(cls, my_id, extra, jvm_props={"java.security.auth.login.config": str(jaas),
                                                    "org.slf4j.simpleLogger.defaultLogLevel": "info"})
    return member(cls, my_id, {**extra, "java.security.auth.login.config": str(jaas)})


def role_of(p: ServerProcess, roles: dict[str, list[ServerProcess]]) -> str:
    return next(r for r, ps in roles.items() if p in ps)


def stays_out(p: ServerProcess, others: list[ServerProcess], seconds: float) -> None:
    """`p` runs on, serving nobody, while `others` keep their roles, for `seconds` (a refused member keeps
    LOOKING: there is no event to wait for, only the absence of one)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert p.proc is not None and p.proc.poll() is None, p.log_tail()
        assert server_mode(p.port) == "", f"{p.kind} {p.port} was let in:\n{p.log_tail()}"
        time.sleep(0.5)
    wait_settled(others, 30)


def answer_until_closed(port: int, payload: bytes, timeout_s: float = 15.0) -> bytes:
    """What the member at `port` sends back to `payload` before it closes the connection."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(payload)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                return got
            if not b:
                return got
            got += b
    raise AssertionError(f"port {port} kept the connection open: {got!r}")


# An election connection from a server 9 nobody configured, then bad quorum auth bytes.
GARBAGE = {
    "an unreadable first packet": MAGIC_BYTES + bytes(4) + (0x7FFFFFFF).to_bytes(4, "big"),
    "an initial response": QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"garbage,=\"").encode(),
    "a digest response for a challenge never sent": QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode()
    + QuorumAuthPacket(AuthStatus.IN_PROGRESS, b'username="learner1",response=00').encode(),
    "no magic": b"\x00\x00\x00\x05hello",
}


CHALLENGE = (AuthStatus.IN_PROGRESS, b'realm="zk-quorum-sasl-md5",nonce="*",charset=utf-8,algorithm=md5-sess')
ERROR = (AuthStatus.ERROR, b"")
GARBAGE_ANSWERS = {  # as ZooKeeper 3.8 on JDK 17 answers, nonces aside; then it closes the connection
    "an unreadable first packet": [],
    "an initial response": [CHALLENGE, ERROR],  # the JDK ignores it; the next token never comes
    "a digest response for a challenge never sent": [CHALLENGE, ERROR],
    "no magic": [],
}


def packets(data: bytes) -> list[tuple[int, bytes | None]]:
    """The QuorumAuthPackets in `data`, as (status, token) with the nonce starred out."""
    out, offset = [], 0
    while offset < len(data):
        got = quorumauth.parse(data, offset)
        assert got is not None, data
        p, offset = got
        assert p.magic == quorumauth.MAGIC
        out.append((p.status, re.sub(rb'nonce="[^"]*"', b'nonce="*"', p.token or b"")))
    return out


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "sslQuorum"])
def test_a_mixed_ensemble_authenticates_with_zoopark_leading_and_following(tmp_path, pki, tls) -> None:  # noqa: F811
    """ZooKeeper 1 and 2 and zoopark 3, every member requiring SASL both ways. Zoopark (the highest id) leads
    first: the ZooKeeper followers authenticate to it on the quorum port, and every election link was
    authenticated. It is killed; ZooKeeper 2 leads, and zoopark comes back as its follower, authenticating to a
    ZooKeeper leader. Writes through every member are read back from every member each time."""
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), **sasl_keys(), **(quorum_tls(pki) if tls else {})}
    members: dict[int, ServerProcess] = {
        i: sasl_member(ZooKeeperProcess if i < 3 else ZooParkProcess, i, extra, jaas_file(tmp_path, i, PASSWORDS[i]))
        for i in (1, 2, 3)}
    clients: list[KazooClient] = []
    zp = members[3]
    try:
        # zoopark is LOOKING before the JVMs come up, so every member's first round sees its vote and it leads
        # (the highest id); started together on a loaded machine, ZooKeeper 1 and 2 could settle first.
        zp.start(wait=False)
        wait_until("zoopark LOOKING", lambda: "LOOKING" in zp.log_path.read_text(), 60)
        for p in (members[1], members[2]):
            p.start(wait=False)
        roles = wait_settled(list(members.values()), 120)
        assert role_of(zp, roles) == "leader"
        commit_everywhere(list(members.values()), "zoopark-leads", clients)
        log = zp.log_path.read_text()
        # the ZooKeeper followers, on the quorum port; and on the election port, each one's dial
        assert "quorum port: quorum SASL: 127.0.0.1:" in log and "authenticated as 'learner1'" in log
        assert "authenticated as 'learner2'" in log
        assert "refused" not in log and PASSWORDS[3] not in log
        for zk in (members[1], members[2]):
            zk_log = zk.log_path.read_text()
            assert "Successfully completed the authentication using SASL" in zk_log, zk.log_tail(60)
        close_clients(clients)
        clients.clear()

        zp.kill()
        rest = [members[1], members[2]]
        roles = wait_settled(rest, 120)
        assert members[2] in roles["leader"]
        zp.start(wait=False)
        roles = wait_settled(list(members.values()), 120)
        assert role_of(zp, roles) == "follower"
        commit_everywhere(list(members.values()), "zookeeper-leads", clients)
        for c in clients:
            assert c.get("/zoopark-leads-2")[0] == b"zoopark-leads via zoopark"
        line = wait_for_log(zp, "quorum port: quorum SASL: authenticated to 127.0.0.1:", 10)
        assert "as 'learner3'" in line
        # ZooKeeper 2, leading, says it authenticated zoopark's learner (SaslQuorumServerCallbackHandler)
        wait_for_log(members[2], "authenticationID=learner3", 10)
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


@pytest.mark.parametrize("kind", [ZooParkProcess, ZooKeeperProcess], ids=["zoopark", "zookeeper"])
def test_a_member_with_a_wrong_password_is_refused_and_the_others_carry_on(tmp_path, kind) -> None:
    """Zoopark 1 and ZooKeeper 2 require SASL; member 3 (zoopark, then ZooKeeper: the same case both ways)
    has a wrong QuorumLearner password. Both refuse it, each with its own log line naming it and the reason and
    never the password; it runs on, LOOKING, while 1 and 2 elect and commit."""
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), **sasl_keys()}
    members: dict[int, ServerProcess] = {
        1: sasl_member(ZooParkProcess, 1, extra, jaas_file(tmp_path, 1, PASSWORDS[1])),
        2: sasl_member(ZooKeeperProcess, 2, extra, jaas_file(tmp_path, 2, PASSWORDS[2])),
        3: sasl_member(kind, 3, extra, jaas_file(tmp_path, 3, WRONG)),
    }
    clients: list[KazooClient] = []
    good = [members[1], members[2]]
    try:
        for p in members.values():
            p.start(wait=False)
        wait_settled(good, 120)
        commit_everywhere(good, "without-3", clients)
        # Member 3 has the highest id, so it dials 1 and 2 back on the election port, and 1 refuses it:
        line = wait_for_log(members[1], "election port: 127.0.0.1:", 60)
        assert "refused: quorum SASL failed (user 'learner3'): " in line and "Mismatched response" in line, line
        assert "(quorum.auth.serverRequireSasl)" in line
        # ZooKeeper 2 refuses it too (SaslQuorumAuthServer: "Failed to authenticate using SASL", at ERROR)
        wait_for_log(members[2], "Failed to authenticate using SASL", 60)
        # and member 3 learns it was refused (its dial ends with an ERROR packet)
        if kind is ZooParkProcess:
            line = wait_for_log(members[3], "quorum SASL with 127.0.0.1:", 30)
            assert "the server refused the authentication (ERROR status)" in line, line
        else:
            wait_for_log(members[3], "Authentication failed against server addr", 30)
        stays_out(members[3], good, 5)
        if kind is ZooParkProcess:  # (once is enough) garbage on zoopark's and ZooKeeper's election ports
            initial = InitialMessage(9, "127.0.0.1:9").encode()
            for what, payload in GARBAGE.items():
                answers = {p.kind: packets(answer_until_closed(ports[i][1], initial + payload))
                           for i, p in ((1, members[1]), (2, members[2]))}
                assert answers["zoopark"] == answers["zookeeper"], (what, answers)
                assert answers["zoopark"] == GARBAGE_ANSWERS[what], what
        for p in members.values():
            text = p.log_path.read_text(errors="replace")
            assert WRONG not in text and PASSWORDS[3] not in text and PASSWORDS[1] not in text, p.kind
        commit_everywhere(good, "still-without-3", clients)
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


@pytest.mark.parametrize("required", [False, True], ids=["not-required", "required"])
def test_a_member_that_does_not_authenticate_is_let_in_only_when_sasl_is_not_required(tmp_path, pki,  # noqa: F811
                                                                                        required) -> None:
    """Zoopark 1 and ZooKeeper 2 authenticate as learners (learnerRequireSasl) and require SASL of others or
    not (serverRequireSasl); zoopark 3 has SASL enabled but does not authenticate. Not required: it joins, and
    zoopark 1 logs that it let an unauthenticated peer through. Required: it is refused. Over sslQuorum, so the
    exchange runs inside TLS."""
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), **quorum_tls(pki)}
    members: dict[int, ServerProcess] = {
        1: sasl_member(ZooParkProcess, 1, {**extra, **sasl_keys(server=required)},
                       jaas_file(tmp_path, 1, PASSWORDS[1])),
        2: sasl_member(ZooKeeperProcess, 2, {**extra, **sasl_keys(server=required)},
                       jaas_file(tmp_path, 2, PASSWORDS[2])),
        3: sasl_member(ZooParkProcess, 3, {**extra, **sasl_keys(learner=False, server=False)},
                       jaas_file(tmp_path, 3, None)),
    }
    clients: list[KazooClient] = []
    try:
        for p in members.values():
            p.start(wait=False)
        if not required:
            roles = wait_settled(list(members.values()), 120)
            assert role_of(members[3], roles) == "leader"  # the highest id: it leads two authenticated learners
            commit_everywhere(list(members.values()), "open", clients)
            line = wait_for_log(members[1], "election port: quorum SASL with 127.0.0.1:", 10)
            assert "failed: not trying to authenticate; kept, as quorum.auth.serverRequireSasl is false" in line
        else:
            good = [members[1], members[2]]
            wait_settled(good, 120)
            line = wait_for_log(members[1], "election port: 127.0.0.1:", 60)
            assert "refused: quorum SASL failed: not trying to authenticate (quorum.auth.serverRequireSasl)" in line
            wait_for_log(members[2], "Learner not trying to authenticate and authentication is required", 60)
            stays_out(members[3], good, 5)
            commit_everywhere(good, "closed", clients)
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()
