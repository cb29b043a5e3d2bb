"""Apache Curator over TLS (ZooKeeper's Java client on Netty, zookeeper.client.secure=true, a PEM keystore
with the client's certificate): a service registered from Java is found from Java and from kazoo over TLS,
on ZooKeeper 3.8 and on zoopark alike."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from test_curator_interop import JARS, JAVA

from certs import Pki
from references import needs
from tlshelp import X509, both, kazoo, stop

pytestmark = [needs("curator", "javac", "zookeeper", "keytool"), pytest.mark.timeout(300)]
NETTY = ("netty-handler", "netty-common", "netty-buffer", "netty-transport", "netty-codec", "netty-resolver",
         "netty-transport-native-epoll", "netty-transport-native-unix-common")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("java")
    cp = ":".join(str(JAVA / f"{j}.jar") for j in (*JARS, *NETTY) if (JAVA / f"{j}.jar").exists())
    src = Path(__file__).parent / "java" / "CuratorDiscovery.java"
    subprocess.run(["javac", "-cp", cp, "-d", str(out), str(src)], check=True, capture_output=True, timeout=120)
    return out, cp


def test_curator_over_tls(program, tmp_path):
    out, cp = program
    pki = Pki.make(tmp_path)
    flags = ["-Dzookeeper.client.secure=true",
             "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
             f"-Dzookeeper.ssl.keyStore.location={pki.client.pem(tmp_path / 'curator.pem')}",
             f"-Dzookeeper.ssl.trustStore.location={pki.ca.cert_pem(tmp_path / 'ca.pem')}"]
    java = ["java", *flags, "-cp", f"{cp}:{out}", "CuratorDiscovery"]
    seen = {}
    with both({**pki.server_pem(), **X509}) as servers:
        for s in servers:
            hosts = f"127.0.0.1:{s.tls_port}"
            reg = subprocess.Popen([*java, hosts, "register"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
            try:
                assert reg.stdout.readline().strip() == "REGISTERED", reg.stderr.read()[-2000:]
                query = subprocess.run([*java, hosts, "query", "billing"], capture_output=True, text=True,
                                       timeout=120)
                c = kazoo(s.tls_port, pki, pki.client, "client")
                children = c.get_children("/services/billing")
                stop(c)
            finally:
                reg.stdin.close()
                reg.wait(60)
            seen[s.kind] = (query.stdout.splitlines(), children)
    assert seen["zoopark"] == seen["zookeeper"]
    assert seen["zoopark"] == (["FOUND java-1 10.1.1.1 9090 {weight=5}"], ["java-1"])
