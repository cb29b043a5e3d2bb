"""SASL GSSAPI (Kerberos) with kazoo, against zoopark and ZooKeeper 3.8 side by side.

The test runs its own MIT KDC from Debian's packages: its own realm and database in a temporary directory
(kdb5_util create, kadmin.local addprinc / ktadd), krb5kdc on a loopback port, and KRB5_CONFIG pointing at its
own krb5.conf. Both servers log in from the same keytab, as zookeeper/127.0.0.1@ZOOPARK.TEST.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.security import ACL, Id, Permissions

from test_sasl_live import SASL_PROVIDER, raw_sasl, sasl_session

from procs import ZooKeeperProcess, ZooParkProcess, free_port
from references import ZKCLI, needs
from zkcli import without_events

pytestmark = [pytest.mark.zk, needs("zookeeper", "kerberos")]

REALM = "ZOOPARK.TEST"
SERVICE = "zookeeper/127.0.0.1"
USERS = ("alice", "bob")


class Kdc:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.krb5_conf = tmp / "krb5.conf"
        self.krb5_conf.write_text(
            f"[libdefaults]\n default_realm = {REALM}\n dns_lookup_realm = false\n dns_lookup_kdc = false\n"
            " rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n"
            f"[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{self.port}\n }}\n"
            f"[domain_realm]\n 127.0.0.1 = {REALM}\n")
        (tmp / "kdc.conf").write_text(
            f"[kdcdefaults]\n kdc_ports = {self.port}\n kdc_tcp_ports = {self.port}\n"
            f"[realms]\n {REALM} = {{\n  database_name = {tmp}/principal\n  key_stash_file = {tmp}/stash\n"
            f"  acl_file = {tmp}/kadm5.acl\n  kdc_ports = {self.port}\n  kdc_tcp_ports = {self.port}\n"
            "  max_life = 1h\n }\n"
            f"[logging]\n kdc = FILE:{tmp}/kdc.log\n")
        (tmp / "kadm5.acl").write_text("")
        self.env = {**os.environ, "KRB5_CONFIG": str(self.krb5_conf), "KRB5_KDC_PROFILE": str(tmp / "kdc.conf"),
                    "KRB5RCACHETYPE": "none"}
        self.proc: subprocess.Popen | None = None

    def run(self, *cmd: str, env: dict[str, str] | None = None) -> None:
        p = subprocess.run(cmd, env=env or self.env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"

    def keytab(self, principal: str) -> Path:
        return self.tmp / (principal.replace("/", "_") + ".keytab")

    def start(self) -> None:
        self.run("kdb5_util", "create", "-s", "-r", REALM, "-P", "master-pw-for-tests")
        for principal in (SERVICE, *USERS):
            self.run("kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {principal}")
            self.run("kadmin.local", "-r", REALM, "-q", f"ktadd -k {self.keytab(principal)} {principal}")
        log = open(self.tmp / "krb5kdc.out", "wb")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        end = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                assert self.proc.poll() is None, (self.tmp / "krb5kdc.out").read_text()
                assert time.monotonic() < end, "the KDC did not listen"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def ccache(self, user: str) -> str:
        """A ticket cache with `user`'s TGT (kinit from its keytab)."""
        cc = f"FILE:{self.tmp}/{user}.cc"
        self.run("kinit", "-kt", str(self.keytab(user)), user, env={**self.env, "KRB5CCNAME": cc})
        return cc


@pytest.fixture(scope="module")
def kdc(tmp_path_factory) -> Iterator[Kdc]:
    k = Kdc(tmp_path_factory.mktemp("kdc"))
    saved = {v: os.environ.get(v) for v in ("KRB5_CONFIG", "KRB5CCNAME", "KRB5RCACHETYPE")}
    try:
        k.start()
        # kazoo's GSSAPI client (pure-sasl, libkrb5) runs in this process; the servers inherit the environment.
        os.environ.update(KRB5_CONFIG=str(k.krb5_conf), KRB5RCACHETYPE="none")
        yield k
    finally:
        k.stop()
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value


def kerberos_pair(kdc: Kdc, **settings: str) -> tuple[ZooKeeperProcess, ZooParkProcess]:
    """Both servers logging in from the service keytab; `settings` as -Dzookeeper.* and as zoo.cfg keys."""
    jaas = kdc.tmp / "server.jaas"
    jaas.write_text(
        "Server {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n"
        f'  keyTab="{kdc.keytab(SERVICE)}"\n  storeKey=true\n  useTicketCache=false\n'
        f'  principal="{SERVICE}@{REALM}";\n}};\n')
    props = {"authProvider.1": SASL_PROVIDER, **settings}
    zk = ZooKeeperProcess(jvm_props={"java.security.auth.login.config": str(jaas),
                                     "java.security.krb5.conf": str(kdc.krb5_conf),
                                     **{f"zookeeper.{k}": v for k, v in props.items()}})
    zp = ZooParkProcess(extra={"java.security.auth.login.config": str(jaas), **props})
    return zk, zp


@pytest.fixture(scope="module")
def servers(kdc: Kdc) -> Iterator[tuple[ZooKeeperProcess, ZooParkProcess]]:
    zk, zp = kerberos_pair(kdc)
    with zk, zp:
        yield zk, zp


def gssapi_session(kdc: Kdc, hosts: str, user: str, then) -> list[str]:
    os.environ["KRB5CCNAME"] = kdc.ccache(user)
    return sasl_session(hosts, user, "", then, mechanism="GSSAPI")


def test_kerberos_logins_and_a_node_only_alice_may_read(kdc, servers):
    seen = []
    for srv in servers:
        acl = [ACL(Permissions.ALL, Id("sasl", f"alice@{REALM}"))]
        created = gssapi_session(kdc, srv.hosts, "alice", lambda c: c.create("/k", b"for-alice", acl=acl))  # noqa: B023
        by_alice = gssapi_session(kdc, srv.hosts, "alice", lambda c: (c.get("/k")[0], c.get_acls("/k")[0]))
        by_bob = gssapi_session(kdc, srv.hosts, "bob", lambda c: c.get("/k")[0])
        seen.append((created, by_alice, by_bob))
    assert seen[1] == seen[0]
    assert seen[0][1][1].startswith("ok (b'for-alice'") and seen[0][2][1] == "NoAuthError", seen[0]


@pytest.mark.parametrize("token", [b"", b"garbage, not an AP-REQ", bytes(range(256)) * 4])
def test_a_garbage_kerberos_token_gets_zookeepers_bytes_and_a_close(servers, token):
    seen = [raw_sasl(srv.port, [token]) for srv in servers]
    assert seen[1] == seen[0]
    assert seen[0][0][2:] == (-115, b"\xff\xff\xff\xff", True)  # AUTHFAILED, a null token, closed


def test_remove_realm_from_principal_makes_the_id_the_short_name(kdc):
    zk, zp = kerberos_pair(kdc, **{"kerberos.removeRealmFromPrincipal": "true"})
    seen = []
    with zk, zp:
        for srv in (zk, zp):
            acl = [ACL(Permissions.ALL, Id("sasl", "alice"))]
            seen.append((gssapi_session(kdc, srv.hosts, "alice", lambda c: c.create("/r", b"r", acl=acl)),  # noqa: B023
                         gssapi_session(kdc, srv.hosts, "alice", lambda c: c.get("/r")[0]),
                         gssapi_session(kdc, srv.hosts, "bob", lambda c: c.get("/r")[0])))
    assert seen[1] == seen[0]
    assert seen[0][1][1] == "ok b'r'" and seen[0][2][1] == "NoAuthError", seen[0]


@needs("zkcli")
def test_zkcli_with_kerberos_reads_a_node_only_alice_may_read(kdc, servers):
    outs = []
    for srv in servers:
        acl = [ACL(Permissions.ALL, Id("sasl", f"alice@{REALM}"))]
        gssapi_session(kdc, srv.hosts, "alice", lambda c: c.create("/zkcli", b"kerberos-alice", acl=acl))  # noqa: B023
        out = {}
        for user in USERS:
            jaas = kdc.tmp / f"{user}.client.jaas"
            jaas.write_text(
                "Client {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n"
                f'  keyTab="{kdc.keytab(user)}"\n  storeKey=true\n  useTicketCache=false\n'
                f'  principal="{user}@{REALM}";\n}};\n')
            # The Java client would ask for zookeeper/localhost (the reverse lookup of 127.0.0.1): name it.
            flags = (f"-Djava.security.auth.login.config={jaas} -Djava.security.krb5.conf={kdc.krb5_conf} "
                     f"-Dzookeeper.server.principal={SERVICE}@{REALM}")
            p = subprocess.run([ZKCLI, "-server", srv.hosts], input="get /zkcli\nwhoami\nquit\n",
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "CLIENT_JVMFLAGS": flags})
            errors = [line for line in p.stderr.splitlines() if "Insufficient permission" in line]
            out[user] = re.sub(r"127\.0\.0\.1:\d+", "<server>", without_events(p.stdout)) + "\n".join(errors)
        outs.append(out)
    assert outs[1] == outs[0]
    assert "kerberos-alice" in outs[0]["alice"] and f"sasl: alice@{REALM}" in outs[0]["alice"], outs[0]
    assert "Insufficient permission : /zkcli" in outs[0]["bob"], outs[0]
