"""ZooKeeper's own clients against zoopark: zkCli.sh (Java) and cli_mt (C) print the same as against ZooKeeper."""

from __future__ import annotations

import re
import subprocess
import threading
import time

import pytest

from procs import ZooKeeperProcess, ZooParkProcess
from references import needs
from zkcli import without_events

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"

pytestmark = [pytest.mark.zk, needs("zookeeper")]

ZKCLI_SCRIPT = """\
create /x hello
create -e /x/e
create -s /x/s- seqdata
create -c /box
get -s /x
ls -s /x
ls -R /
set -v 0 /x world
set -v 0 /x again
get /x
stat /zookeeper
getAcl /x
addauth digest user:pw
create /secret s auth:user:pw:cdrwa
getAcl /secret
setAcl /x world:anyone:r
getAcl /x
getEphemerals
getAllChildrenNumber /
delete /x
deleteall /x
whoami
sync /
ls /
quit
"""

CLI_MT_SCRIPT = """\
create /x
create /x/a
create /x/b
create /x/c
ls /x
ls2 /x
get /x
exists /nothere
delete /x/a
ls /x
get /x
"""


def _mask(text: str) -> str:
    text = re.sub(r"(ctime|mtime) = .*", r"\1 = <time>", text)
    text = re.sub(r"ephemeralOwner = 0x[0-9a-f]+", lambda m: "ephemeralOwner = " + ("0x0" if m.group(0).endswith("0x0") else "<session>"), text)
    text = re.sub(r"0x[0-9a-f]{10,}", "<session>", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "<server>", text)
    text = re.sub(r"time = \d+ msec", "time = <ms>", text)
    text = re.sub(r"(ctime|mtime)=[^\n]*", r"\1=<time>", text)
    return text


def _run(cmd: list[str], script: str, stream: str = "stdout") -> str:
    p = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return _mask(getattr(p, stream))


@needs("zkcli")
def test_zkcli_session_prints_the_same():
    outs = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as server:
            outs.append(without_events(_run([ZKCLI, "-server", server.hosts], ZKCLI_SCRIPT)))
    assert "hello" in outs[0] and "Auth scheme: User" in outs[0]
    assert outs[1] == outs[0]


def _run_cli_mt(hosts: str, deadline_s: float = 60.0) -> str:
    """Feed the script, then keep stdin open until the last command (the second get) has completed: cli_mt
    answers asynchronously and fails whatever is in flight when its input ends."""
    p = subprocess.Popen([CLI_MT, hosts], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(p.stderr.readline, "")), daemon=True)
    reader.start()
    assert p.stdin is not None
    end = time.monotonic() + deadline_s
    # Commands typed before the session is up race the handshake (a loaded machine loses some): wait for it.
    while time.monotonic() < end and "CONNECTED_STATE" not in "".join(chunks):
        time.sleep(0.02)
    p.stdin.write(CLI_MT_SCRIPT)
    p.stdin.flush()
    while time.monotonic() < end and "".join(chunks).count("value_len") < 2:
        time.sleep(0.02)
    p.stdin.close()
    p.wait(60)
    reader.join(10)
    return "".join(chunks)


@needs("cli_mt")
def test_c_client_prints_the_same():
    """cli_mt prints completions from its own threads on stderr, interleaved by timing even against one
    server, and requests still in flight at end of input fail with -116 (closing): so the distinct lines
    are compared (stdin stays open until the last command has completed)."""
    outs = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as server:
            text = _mask(_run_cli_mt(server.hosts))
            outs.append(sorted({line for line in text.splitlines()
                                if line.strip() and line != "bye" and "-116" not in line}))
    assert "[/x/c]: rc = 0" in outs[0] and "Error -101 for /nothere" in outs[0]
    assert outs[1] == outs[0]
