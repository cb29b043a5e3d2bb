"""One loop turn, one write per peer and one log submit: what an ensemble member sends and logs is gathered
during a callback and handed over when the loop is next free (as the standalone server coalesces replies)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..persist.writer import LogWriter


class TurnBatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, writer: LogWriter) -> None:
        self.loop = loop
        self.writer = writer
        self.entries: list[tuple[int, bytes]] = []
        self.after: list[Callable[[], None]] = []
        self.out: dict[object, list[bytes]] = {}  # transport -> pending bytes
        self.scheduled = False

    def write(self, transport, data: bytes) -> None:
        q = self.out.get(transport)
        if q is None:
            self.out[transport] = [data]
        else:
            q.append(data)
        self._schedule()

    def append(self, entries: list[tuple[int, bytes]], then: Callable[[], None]) -> None:
        self.entries.extend(entries)
        self.after.append(then)
        self._schedule()

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.entries:
            entries, after = self.entries, self.after
            self.entries, self.after = [], []

            def durable() -> None:
                for cb in after:
                    cb()
            self.writer.submit(entries, durable)
        if self.out:
            out, self.out = self.out, {}
            for transport, parts in out.items():
                if not transport.is_closing():
                    transport.write(parts[0] if len(parts) == 1 else b"".join(parts))
