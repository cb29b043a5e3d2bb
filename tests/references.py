"""The references tests compare against, and what to install for each.

A test that needs one says so with `@needs("zookeeper", "zkcli")` (or `pytestmark = needs(...)`). When the
reference is missing, the test skips in a plain `pytest` run by hand, and fails, naming what to install, under
`make test` and in CI (ZOOPARK_REQUIRE_REFERENCES=1, or CI set): a comparison that silently does not run
is a comparison that passes without looking.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

JAVA_DIR = Path("/usr/share/java")
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"
# Apache ZooKeeper 3.8's server and what it needs on the class path (tests/procs.py runs it from these).
ZK_JARS = ("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar", "log4j-1.2.jar",
           "commons-cli.jar", "commons-io.jar", "metrics-core.jar", "netty-handler.jar", "netty-common.jar",
           "netty-buffer.jar", "netty-transport.jar", "netty-codec.jar", "netty-resolver.jar",
           "netty-transport-native-epoll.jar", "netty-transport-native-unix-common.jar", "snappy-java.jar",
           "jline.jar", "jackson-databind.jar", "jackson-core.jar", "jackson-annotations.jar",
           "jetty9-server.jar", "jetty9-servlet.jar", "jetty9-util.jar", "jetty9-http.jar", "jetty9-io.jar",
           "jetty9-security.jar", "servlet-api-3.1.jar", "audience-annotations.jar")
_ZK_OPTIONAL = ("jline.jar", "servlet-api-3.1.jar", "audience-annotations.jar")  # not in Debian's 3.8 package


def _importable(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


def _zookeeper() -> bool:
    return shutil.which("java") is not None and all((JAVA_DIR / j).exists() for j in ZK_JARS
                                                    if j not in _ZK_OPTIONAL)


# name -> (is it here?, what to install)
REFERENCES: dict[str, tuple[Callable[[], bool], str]] = {
    "zookeeper": (_zookeeper, "Apache ZooKeeper 3.8: apt-get install zookeeper (and a JRE)"),
    "zkcli": (lambda: shutil.which("java") is not None and os.access(ZKCLI, os.X_OK),
              "zkCli.sh: apt-get install zookeeper"),
    "cli_mt": (lambda: os.access(CLI_MT, os.X_OK), "the C client cli_mt: apt-get install zookeeper-bin"),
    "chromium": (lambda: shutil.which("chromium") is not None and shutil.which("chromedriver") is not None,
                 "headless Chromium and its WebDriver: apt-get install chromium chromium-driver"),
    "keytool": (lambda: shutil.which("keytool") is not None, "the JDK's keytool: apt-get install default-jre-headless"),
    "javac": (lambda: shutil.which("javac") is not None, "a JDK: apt-get install default-jdk-headless"),
    "curator": (lambda: (JAVA_DIR / "curator-x-discovery.jar").exists(),
                "Curator's service discovery: apt-get install libcurator-discovery-java"),
    "kerberos": (lambda: all(shutil.which(c) for c in ("krb5kdc", "kdb5_util", "kadmin.local", "kinit"))
                 and _importable("gssapi", "kerberos"),
                 "an MIT KDC and Kerberos for Python: apt-get install krb5-kdc krb5-admin-server krb5-user "
                 "libkrb5-dev; pip install -e '.[kerberos]' (make test-packages does both)"),
    "root": (lambda: os.geteuid() == 0, "root (to mount a tmpfs or make network namespaces)"),
}


def required() -> bool:
    """Under make test and in CI a missing reference fails the test."""
    return os.environ.get("ZOOPARK_REQUIRE_REFERENCES") == "1" or bool(os.environ.get("CI"))


def missing(*names: str) -> list[str]:
    unknown = [n for n in names if n not in REFERENCES]
    assert not unknown, f"unknown references {unknown}"
    return [n for n in names if not REFERENCES[n][0]()]


def needs(*names: str) -> pytest.MarkDecorator:
    """Mark a test (or a module, as pytestmark) as needing these references; tests/conftest.py acts on it."""
    missing(*names)  # check the names now, at import
    return pytest.mark.references(*names)


def demand(*names: str) -> None:
    """Inside a test or fixture: skip, or fail under make test, if a reference is missing."""
    absent = missing(*names)
    if absent:
        refuse(absent)


def unavailable(what: str, install: str) -> None:
    """Inside a test or fixture: something it needs turned out not to work here (a tmpfs mount refused)."""
    message = f"{what}; needs {install}"
    if required():
        pytest.fail(f"missing reference under make test: {message}", pytrace=False)
    pytest.skip(message)


def refuse(absent: list[str]) -> None:
    message = "; ".join(f"{n} is missing: {REFERENCES[n][1]}" for n in absent)
    if required():
        pytest.fail(f"missing reference under make test: {message}", pytrace=False)
    pytest.skip(message)
