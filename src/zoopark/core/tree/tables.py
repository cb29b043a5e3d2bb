"""Big str-keyed tables that keep each key's hash beside it.

CPython (3.11 on) stores a dict whose keys are all str without their hashes: a probe that lands on another
key reads that key's object to get its hash. In a table of a million keys every such read is a cache miss,
and they were the largest cost of loading a snapshot (two inserts per znode: the path map and the parent's
children). A dict that has once held a key of another type keeps a hash in every entry from then on (through
resizes, until clear()), so a probe compares hashes without touching the key. It costs 8 bytes per entry and
makes a hit a few nanoseconds slower in a table that fits the cache, so only tables past LARGE entries are
switched. What a table holds and how it iterates are unchanged: this is only a matter of speed.
"""

from __future__ import annotations

from typing import Any

LARGE = 1 << 16  # where a hash-keeping table's lookups and inserts became faster (measured, 2026-11-30)


def keep_hashes(table: dict[Any, Any]) -> None:
    """Switch `table` (str keys only) to entries that keep their hash: a key of another type in and out."""
    table[0] = None
    del table[0]
