"""Service discovery with Apache Curator's Java ServiceDiscovery (Debian's libcurator-discovery-java, a small
program compiled here): an instance registered from Java is found from Python, and the reverse."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from zoopark.recipes.discovery import ServiceDiscovery, ServiceInstance

from procs import ZooParkProcess
from references import needs

JAVA = Path("/usr/share/java")
JARS = ("curator-client", "curator-framework", "curator-x-discovery", "zookeeper", "zookeeper-jute", "guava",
        "failureaccess", "jackson-databind", "jackson-core", "jackson-annotations", "slf4j-api", "slf4j-nop")
pytestmark = needs("curator", "javac")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("java")
    cp = ":".join(str(JAVA / f"{j}.jar") for j in JARS if (JAVA / f"{j}.jar").exists())
    src = Path(__file__).parent / "java" / "CuratorDiscovery.java"
    subprocess.run(["javac", "-cp", cp, "-d", str(out), str(src)], check=True, capture_output=True, timeout=120)
    return ["java", "-cp", f"{cp}:{out}", "CuratorDiscovery"]


def test_java_and_python_instances_find_each_other(program) -> None:
    with ZooParkProcess() as zp:
        java = subprocess.Popen([*program, zp.hosts, "register"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        c = KazooClient(zp.hosts)
        try:
            assert java.stdout.readline().strip() == "REGISTERED", java.stderr.read()[-2000:]
            c.start(timeout=30)
            d = ServiceDiscovery(c, "/services")
            (found,) = d.query_for_instances("billing")
            assert (found.id, found.address, found.port, found.payload, found.service_type) == \
                ("java-1", "10.1.1.1", 9090, {"weight": 5}, "DYNAMIC")
            d.register(ServiceInstance.build("orders", "10.0.0.5", 8080, {"weight": 3}, id="py-1"))
            query = subprocess.run([*program, zp.hosts, "query", "orders"], capture_output=True, text=True,
                                   timeout=120)
            assert query.returncode == 0, query.stderr[-2000:]
            assert query.stdout.splitlines() == ["FOUND py-1 10.0.0.5 8080 {weight=3}"]
        finally:
            java.stdin.close()
            java.wait(30)
            c.stop()
            c.close()
