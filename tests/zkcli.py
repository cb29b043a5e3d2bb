"""zkCli.sh's output without what its event thread prints whenever it gets to it.

ZooKeeperMain's watcher prints each event as two messages, `printMessage("WATCHER::")` and
`printMessage(event.toString())`, each "\\n" + text + "\\n": before the command's output, after it, between
the two halves, or not at all before the JVM exits. Comparisons of zkCli runs take them out."""

from __future__ import annotations

import re

_EVENT = re.compile(r"\nWATCHER::\n|\nWatchedEvent [^\n]*\n")


def without_events(text: str) -> str:
    return _EVENT.sub("", re.sub(r"^Connecting to \S+\n", "", text))
