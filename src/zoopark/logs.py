"""Logging for the server: levelled; text (the default) or JSON lines (`--log-format json`: ts, level, logger,
msg, and session / zxid where a line is about one); to stderr or to a file rotated by size
(`--log-file`, `--log-max-mb`, `--log-backups`), as ZooKeeper's log4j RollingFileAppender."""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from pathlib import Path

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
FIELDS = ("session", "zxid")  # set through `extra=`; shown as 0x hex, as ZooKeeper writes them


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = f"0x{value & 0xFFFFFFFFFFFFFFFF:x}"
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup(level: str = "info", fmt: str = "text", file: str | Path | None = None, max_mb: float = 64,
          backups: int = 10) -> logging.Handler:
    """Configure the root logger once; returns the handler."""
    if file is not None:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=max(1, int(max_mb * 1024 * 1024)), backupCount=backups, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    return handler
