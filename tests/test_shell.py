"""`zoopark shell`: the same commands through zkCli.sh 3.8 and through the shell, each against a fresh server
of its own, give the same output and exit status (times normalised); and the interactive shell in a
pseudo-terminal completes znode paths with tab and recalls history."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from procs import ZooParkProcess
from references import needs
from zkcli import without_events

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
SCRIPT = [
    "create /app hello", "create /app x", "create -s /app/seq- d", "ls /", "ls -s /app",
    "ls -R /app", "get /app", "get -s /app", "stat /app", "set /app v2", "set -v 0 /app v3", "getAcl /app",
    "create /acl x world:anyone:cdr", "getAcl /acl", "sync /", "getAllChildrenNumber /", "getEphemerals /",
    "whoami", "delete /app", "create -c /cont", "deleteall /app", "get /nope", "stat /nope", "ls /",
]
_TIME = re.compile(r"^([cm]time = ).*$", re.M)
_ZXID = re.compile(r"^([cmp]Zxid = )0x[0-9a-f]+$", re.M)


def normalise(text: str) -> str:
    """Times differ between two runs; zxids too, since zkCli.sh exits without closing its session (no
    closeSession txn) where the shell closes it."""
    return _ZXID.sub(r"\1<zxid>", _TIME.sub(r"\1<time>", text))


def zkcli(hosts: str, line: str) -> tuple[int, str, str]:
    r = subprocess.run([ZKCLI, "-server", hosts, *line.split()], capture_output=True, text=True, timeout=60)
    out = without_events(r.stdout)
    err = "".join(ln + "\n" for ln in r.stderr.splitlines() if not ln.startswith("SLF4J"))
    return r.returncode, normalise(out), err


def ours(hosts: str, line: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", hosts, *line.split()],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, normalise(r.stdout), r.stderr


@needs("zookeeper", "zkcli")
def test_commands_answer_as_zkcli() -> None:
    with ZooParkProcess() as a, ZooParkProcess() as b:
        for line in SCRIPT:
            theirs, mine = zkcli(a.hosts, line), ours(b.hosts, line)
            assert mine == theirs, f"{line!r}:\nzkCli: {theirs}\nshell: {mine}"


def test_script_mode_exit_status_and_stdin() -> None:
    with ZooParkProcess() as zp:
        ok = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", zp.hosts],
                            input="create /s one\nget /s\ncreate -e /s/eph\n# a comment\ngetEphemerals /\n"
                                  "history\n", capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0 and ok.stdout.splitlines()[:2] == ["one", "[/s/eph]"], ok
        assert ok.stderr == "Created /s\nCreated /s/eph\n"
        bad = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", zp.hosts, "-c",
                              "get /missing; get /s"], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and bad.stdout == "one\n" and "Node does not exist: /missing" in bad.stderr


def test_add_watch_prints_every_event_under_the_path() -> None:
    """addWatch (persistent recursive by default): the shell prints the events of its own writes below the
    path, as zkCli does; after removewatches, none."""
    with ZooParkProcess() as zp:
        r = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", zp.hosts, "-c",
                            "create /w; addWatch /w; create /w/a x; set /w/a y; create /w/a/b; "
                            "removewatches /w; create /w/c"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
        events = re.findall(r"type:(\w+) path:(\S+)", r.stdout)
        assert events == [("NodeCreated", "/w/a"), ("NodeDataChanged", "/w/a"), ("NodeCreated", "/w/a/b")]


def _read_until(fd: int, want: bytes, timeout: float = 20.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while want not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw {want!r}; got {buf[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            if b"\x1b[6n" in chunk:  # prompt_toolkit asks where the cursor is: answer as a terminal would
                os.write(fd, b"\x1b[1;1R")
            buf += chunk
    return buf


def test_interactive_completion_and_history_in_a_terminal(tmp_path) -> None:
    with ZooParkProcess() as zp:
        subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", zp.hosts, "create",
                        "/application-config", "x"], check=True, capture_output=True, timeout=60)
        pid, fd = pty.fork()
        if pid == 0:  # the child: the shell on the terminal
            os.environ.update(TERM="xterm", ZOOPARK_HISTORY=str(tmp_path / "history"), COLUMNS="120", LINES="40")
            os.execv(sys.executable, [sys.executable, "-m", "zoopark", "shell", "-server", zp.hosts])
        try:
            _read_until(fd, b"(CONNECTED) 0]")
            os.write(fd, b"get /applic\t")  # tab completes the path from the server's children
            _read_until(fd, b"ation-config")
            os.write(fd, b"\r")
            _read_until(fd, b"(CONNECTED) 1]")
            os.write(fd, b"\x1b[A")  # up arrow: the last command again
            _read_until(fd, b"get /application-config")
            os.write(fd, b"\r")
            _read_until(fd, b"(CONNECTED) 2]")
            os.write(fd, b"quit\r")
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert "get /application-config" in (tmp_path / "history").read_text()
        finally:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(fd)
