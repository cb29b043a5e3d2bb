"""ZooKeeper's RateLogger (server/RateLogger.java): a warning said once, and its repeats within the interval
counted and said as `[N times] Message: ...` when the interval has passed or another message comes. The quota
checks log through it, as ZooKeeperServer's RATE_LOGGER does. Pure: the time is given."""

from __future__ import annotations


class RateLogger:
    __slots__ = ("interval_ms", "msg", "timestamp_ms", "count")

    def __init__(self, interval_ms: int = 100) -> None:
        self.interval_ms = interval_ms
        self.msg: str | None = None
        self.timestamp_ms = 0
        self.count = 0

    def log(self, msg: str, now_ms: int) -> list[str]:
        """The lines to log (at WARN) for `msg` now: none while it repeats within the interval."""
        if msg == self.msg:
            self.count += 1
            if now_ms - self.timestamp_ms < self.interval_ms:
                return []
            lines = self.flush()
            self.msg, self.timestamp_ms = msg, now_ms
            return lines
        lines = self.flush()
        self.msg, self.timestamp_ms = msg, now_ms
        lines.append(f"Message:{msg} Value:null")  # slf4j's "Message:{} Value:{}" with no value
        return lines

    def flush(self) -> list[str]:
        lines = []
        if self.msg is not None and self.count > 0:
            lines.append((f"[{self.count} times] " if self.count > 1 else "") + f"Message: {self.msg}")
        self.msg, self.count = None, 0
        return lines
