"""Progress of a long operation on stderr: redrawn in place on a terminal, a line every 10% otherwise; silent
for small inputs (below `min_total` bytes)."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None, min_total: int = 8 << 20) -> None:
        self.label, self.total = label, max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.active = total >= min_total
        self.tty = self.active and getattr(self.stream, "isatty", lambda: False)()
        self.step = 1 if self.tty else 10
        self.shown = -1

    def update(self, done: int) -> None:
        if not self.active:
            return
        pct = min(100, done * 100 // self.total)
        if pct // self.step == self.shown // self.step and self.shown >= 0:
            return
        self.shown = pct
        text = f"{self.label}: {pct}% ({done / 1e6:.1f} of {self.total / 1e6:.1f} MB)"
        self.stream.write(f"\r{text}" if self.tty else f"{text}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.active:
            self.update(self.total)
            if self.tty:
                self.stream.write("\n")
