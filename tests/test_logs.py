"""Server logs: JSON lines carry the session (and zxid) a line is about; the log file rotates by size."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from kazoo.client import KazooClient

from zoopark.logs import setup

from procs import ZooParkProcess


class JsonLogged(ZooParkProcess):
    def command(self, cfg: Path) -> list[str]:
        return super().command(cfg) + ["--log-format", "json", "--log-file", str(self.tmp / "logs" / "zoopark.log"),
                                        "--log-level", "debug"]


def test_json_lines_name_the_session() -> None:
    with JsonLogged() as zp:
        c = KazooClient(zp.hosts)
        c.start(timeout=30)
        sid = c.client_id[0]
        c.stop()
        c.close()
        path = zp.tmp / "logs" / "zoopark.log"
        lines: list[dict] = []
        for _ in range(100):  # the server writes the line as the session is established; read until there
            lines = [json.loads(line) for line in path.read_text().splitlines()]
            if any(r.get("session") == f"0x{sid:x}" for r in lines):
                break
            time.sleep(0.05)
        mine = [r for r in lines if r.get("session") == f"0x{sid:x}"]
        assert mine and "established session" in mine[0]["msg"] and mine[0]["level"] == "debug"
        assert all({"ts", "level", "logger", "msg"} <= set(r) for r in lines)


def test_the_log_file_rotates_by_size(tmp_path) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        handler = setup("info", "json", tmp_path / "z.log", max_mb=0.01, backups=3)
        log = logging.getLogger("zoopark.test")
        for i in range(2000):
            log.info("line %d", i, extra={"zxid": i})
        handler.close()
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["z.log", "z.log.1", "z.log.2", "z.log.3"], files
        newest = [json.loads(line) for line in (tmp_path / "z.log").read_text().splitlines()]
        assert newest[-1]["msg"] == "line 1999" and newest[-1]["zxid"] == hex(1999)
        assert all((tmp_path / f).stat().st_size <= 0.01 * 1024 * 1024 + 200 for f in files)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])


def test_a_large_log_dump_shows_progress(tmp_path) -> None:
    """logdump of a big file reports 10% steps on stderr (not on a terminal); its output is unchanged."""
    import io

    from zoopark.core.jute.records import CreateTxn, TxnHeader
    from zoopark.core.jute.txns import encode_txn
    from zoopark.persist import txnlog
    from zoopark.tools.dump import dump_log
    from zoopark.tools.progress import Progress

    log = txnlog.TxnLog(tmp_path, prealloc_bytes=0)
    for z in range(1, 2001):
        log.append(z, encode_txn(TxnHeader(1, z, z, 0, 1), CreateTxn(f"/n{z}", b"x" * 100, [], False, z)))
    log.sync()
    log.close()
    path = txnlog.log_files(tmp_path)[0][1]
    err = io.StringIO()
    out = io.StringIO()
    n = dump_log(path, False, out, Progress(path.name, path.stat().st_size, err, min_total=0))
    steps = [line.split(": ")[1].split("%")[0] for line in err.getvalue().splitlines()]
    assert n == 2000 and out.getvalue().endswith("EOF reached after 2000 txns.\n")
    assert steps[0] == "0" and steps[-1] == "100" and len(steps) >= 10
