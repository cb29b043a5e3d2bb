"""Quotas against ZooKeeper 3.8, both started the same way (enforceQuota=true in zoo.cfg): zkCli's setquota /
listquota / delquota print the same and leave the same quota nodes, byte for byte; mntr shows the same quota
rows; kazoo gets QUOTAEXCEEDED from both at the same point, in a multi too; the stats survive a restart; and
`zoopark shell` answers these commands as zkCli does."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import QuotaExceededError, RolledBackError

from procs import ZooKeeperProcess, ZooParkProcess, close_clients, mntr
from references import ZKCLI, needs
from zkcli import without_events

CONF = {"enforceQuota": "true"}

# Good and bad input; each line is one zkCli command. /zookeeper itself takes a quota (ZooKeeper's zkCli
# allows it); nested quotas, missing paths, /zookeeper/quota and bad values are refused.
SCRIPT = """\
create /a x
create /a/b yy
setquota -n 3 /a
listquota /a
setquota -b 10 /a
setquota -N 5 /a
setquota -B 100 /a
listquota /a
create /a/c 123
create /a/b/c
create /a/b/d
create /a/b/e
set /a/b 01234567890123456789
listquota /a
setquota -n 1 /a/b
setquota -n 1 /
setquota -n 1 /zookeeper/quota
setquota -n 1 /nope
setquota -n 0 /a
setquota -n x /a
setquota -b -1 /a
setquota /a
setquota -n 1
setquota -n 1 -b 2 /a
listquota /nope
delquota /nope
delquota -n /a
delquota -B /a
listquota /a
create /p
create /p/q
setquota -n 5 /p/q
setquota -n 5 /p
setquota -n 1 /zookeeper
listquota /zookeeper
ls -R /zookeeper/quota
delquota /zookeeper
delquota -b /p/q
listquota /p/q
delquota /p/q
ls /zookeeper/quota
quit
"""


def zkcli_script(hosts: str, script: str) -> tuple[str, str]:
    p = subprocess.run([ZKCLI, "-server", hosts], input=script, capture_output=True, text=True, timeout=180)
    err = "".join(ln + "\n" for ln in p.stderr.splitlines() if not ln.startswith("SLF4J"))
    return re.sub(r"127\.0\.0\.1:\d+", "<server>", without_events(p.stdout)), err


def quota_nodes(zk: KazooClient) -> dict[str, bytes | None]:
    """Every node under /zookeeper/quota and its data."""
    out: dict[str, bytes | None] = {}
    stack = ["/zookeeper/quota"]
    while stack:
        path = stack.pop()
        out[path] = zk.get(path)[0]
        stack.extend(f"{path}/{c}" for c in zk.get_children(path))
    return out


def quota_rows(port: int) -> dict[str, str]:
    return {k: v for k, v in mntr(port).items() if "quota" in k or k == "zk_approximate_data_size"}


@needs("zookeeper", "zkcli")
def test_zkcli_quota_commands_print_and_write_the_same():
    seen = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            out, err = zkcli_script(server.hosts, SCRIPT)
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            try:
                zk.create("/m")
                # Quotas on two namespaces for the mntr rows, one with a refused write.
                zk.create("/zookeeper/quota/m")
                zk.create("/zookeeper/quota/m/zookeeper_limits", b"count=-1,bytes=-1=;byteHardLimit=2;countHardLimit=-1")
                zk.create("/zookeeper/quota/m/zookeeper_stats", b"count=0,bytes=0")
                with pytest.raises(QuotaExceededError):
                    zk.create("/m/big", b"123")
                nodes = quota_nodes(zk)
            finally:
                close_clients([zk])
            seen.append((out, err, nodes, quota_rows(server.port)))
    (zk_out, zk_err, zk_nodes, zk_rows), (zp_out, zp_err, zp_nodes, zp_rows) = seen
    assert "Output quota for /a count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1" in zk_out  # the script ran
    assert "/a/b has a parent /a which has a quota" in zk_err and "Quota has exceeded : /a/b/e" in zk_err
    assert zp_out == zk_out
    assert zp_err == zk_err
    assert zp_nodes == zk_nodes
    assert zk_rows["zk_m_quota_bytes_limit_per_namespace"] == "2"
    assert zk_rows["zk_m_quota_exceeded_error_per_namespace"] == "1"
    assert zp_rows == zk_rows


@needs("zookeeper")
def test_hard_limits_refuse_kazoo_writes_on_both_servers_alike():
    results = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            try:
                seen: list[object] = []
                zk.create("/h", b"")
                zk.create("/zookeeper/quota/h")
                zk.create("/zookeeper/quota/h/zookeeper_limits",
                          b"count=-1,bytes=-1=;byteHardLimit=8;countHardLimit=3")
                zk.create("/zookeeper/quota/h/zookeeper_stats", b"count=0,bytes=0")
                for path, data in [("/h/a", b"1234"), ("/h/b", b"1234"), ("/h/c", b""), ("/h/d", b"9")]:
                    try:
                        seen.append(zk.create(path, data))
                    except QuotaExceededError as e:
                        seen.append(type(e).__name__)
                try:
                    zk.set("/h/a", b"12345")
                except QuotaExceededError as e:
                    seen.append(type(e).__name__)
                tx = zk.transaction()
                tx.set_data("/h/a", b"")
                tx.create("/h/e", b"")
                seen.append([type(r).__name__ for r in tx.commit()])
                seen.append(zk.get("/zookeeper/quota/h/zookeeper_stats")[0])
                seen.append(zk.get("/h/a")[0])
            finally:
                close_clients([zk])
            results.append(seen)
    assert results[0] == ["/h/a", "/h/b", "QuotaExceededError", "QuotaExceededError", "QuotaExceededError",
                          [RolledBackError.__name__, QuotaExceededError.__name__], b"count=3,bytes=8", b"1234"]
    assert results[1] == results[0]


@needs("zookeeper", "zkcli")
def test_stats_survive_a_restart_as_on_zookeeper():
    script = "create /r\ncreate /r/a 12\nsetquota -N 4 /r\ncreate /r/b 345\nquit\n"
    after = "listquota /r\ncreate /r/c\ncreate /r/d\nlistquota /r\nquit\n"
    outs = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        server = cls(extra=CONF)
        try:
            server.start()
            zkcli_script(server.hosts, script)
            server.stop()
            server.start()
            out, err = zkcli_script(server.hosts, after)
            outs.append((out, err))
        finally:
            server.cleanup()
    assert "Output stat for /r count=3,bytes=5" in outs[0][0] and "Quota has exceeded : /r/d" in outs[0][1]
    assert outs[1] == outs[0]


SHELL_LINES = ["create /a x", "setquota -n 2 /a", "setquota -B 5 /a", "listquota /a", "create /a/b 1234",
               "create /a/c", "setquota -n 1 /a/b", "setquota -n 1 /nope", "setquota -N 0 /a", "setquota /a",
               "setquota -n 1 /zookeeper/quota", "delquota -n /a", "listquota /a", "delquota /a", "listquota /a",
               "delquota /a"]


@needs("zookeeper", "zkcli")
def test_zoopark_shell_answers_quota_commands_as_zkcli():
    with ZooParkProcess(extra=CONF) as a, ZooParkProcess(extra=CONF) as b:
        for line in SHELL_LINES:
            z = subprocess.run([ZKCLI, "-server", a.hosts, *line.split()], capture_output=True, text=True, timeout=60)
            theirs = (z.returncode, without_events(z.stdout),
                      "".join(ln + "\n" for ln in z.stderr.splitlines() if not ln.startswith("SLF4J")))
            s = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", b.hosts, *line.split()],
                               capture_output=True, text=True, timeout=60)
            assert (s.returncode, s.stdout, s.stderr) == theirs, line
