"""One loop turn, one write per peer and one log submit: what an ensemble member sends and logs is gathered
during a callback and handed over when the loop is next free (as the standalone server coalesces replies).

A TurnBatch belongs to one role and is fenced by that role's log generation (persist/writer.py): once the
generation has ended (the role is over, or its log failed) nothing of the role goes out any more, whichever
of its tasks or callbacks is still running: no log append, no packet, no callback released by an fsync. So a
deposed role cannot write, ACK or commit by construction, not by remembering to stop each task."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..persist.writer import LogWriter


class TurnBatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, writer: LogWriter, generation: int,
                 after_all: Callable[[], None] | None = None) -> None:
        """`after_all`: run once after the callbacks an fsync released (the member steps their inputs together
        there, instead of once per append)."""
        self.loop = loop
        self.writer = writer
        self.generation = generation
        self.after_all = after_all
        self.entries: list[tuple[int, bytes]] = []
        self.after: list[Callable[[], None]] = []
        self.out: dict[object, list[bytes]] = {}  # transport -> pending bytes
        self.scheduled = False

    @property
    def live(self) -> bool:
        """The role may still act: its generation is the writer's open one."""
        return self.writer.is_open(self.generation)

    def end(self) -> None:
        """The role is over: from now on nothing of it goes out."""
        self.writer.end(self.generation)
        self.entries, self.after, self.out = [], [], {}

    def write(self, transport, data: bytes) -> None:
        if not self.live:
            return
        q = self.out.get(transport)
        if q is None:
            self.out[transport] = [data]
        else:
            q.append(data)
        self._schedule()

    def append(self, entries: list[tuple[int, bytes]], then: Callable[[], None]) -> None:
        if not self.live:
            return
        self.entries.extend(entries)
        self.after.append(then)
        self._schedule()

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if not self.live:
            self.entries, self.after, self.out = [], [], {}
            return
        if self.entries:
            entries, after = self.entries, self.after
            self.entries, self.after = [], []

            def durable() -> None:
                if not self.live:
                    return  # written, but the role ended meanwhile: its ACKs and commits are not ours to give
                for cb in after:
                    cb()
                if self.after_all is not None:
                    self.after_all()
            self.writer.submit(entries, durable, self.generation)
        if self.out:
            out, self.out = self.out, {}
            for transport, parts in out.items():
                if not transport.is_closing():
                    transport.write(parts[0] if len(parts) == 1 else b"".join(parts))
