"""java.util.Properties as ZooKeeper reads and rewrites zoo.cfg: `load`'s line syntax, and the order its
entries iterate in (which is the order ZooKeeper writes a rewritten zoo.cfg in)."""

from __future__ import annotations

import re

from .core.tree import javaorder

_BLANK = " \t\f"
_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "f": "\f"}


def _odd_backslashes(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str) -> str:
    """Properties.loadConvert: \\uXXXX, \\t \\r \\n \\f, and a backslash before anything else dropped."""
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        i += 1
        if c != "\\" or i >= len(s):
            out.append(c)
            continue
        c = s[i]
        i += 1
        if c == "u":
            digits = s[i:i + 4]
            if len(digits) < 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError(f"Malformed \\uxxxx encoding: \\u{digits}")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    """A logical line's key and value: the key ends at the first unescaped `=`, `:` or blank; blanks and one
    separator after it are skipped."""
    n = len(line)
    key_len, value_start, has_sep, escaped = 0, n, False, False
    while key_len < n:
        c = line[key_len]
        if c in "=:" and not escaped:
            value_start, has_sep = key_len + 1, True
            break
        if c in _BLANK and not escaped:
            value_start = key_len + 1
            break
        escaped = c == "\\" and not escaped
        key_len += 1
    while value_start < n:
        c = line[value_start]
        if c not in _BLANK:
            if has_sep or c not in "=:":
                break
            has_sep = True
        value_start += 1
    return _unescape(line[:key_len]), _unescape(line[value_start:])


def load(text: str) -> list[tuple[str, str]]:
    """Properties.load's entries in file order (a repeated key appears each time; the last value counts):
    `#` / `!` comment lines, a line ending in an odd number of backslashes continued on the next (whose
    leading blanks are dropped), escapes undone. Keys and values are not trimmed (ZooKeeper trims them)."""
    out: list[tuple[str, str]] = []
    lines = re.split(r"\r\n|\r|\n", text)
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(_BLANK)
        i += 1
        if not line or line[0] in "#!":
            continue
        while _odd_backslashes(line):
            line = line[:-1]
            if i >= len(lines):
                break
            line += lines[i].lstrip(_BLANK)
            i += 1
        out.append(_split(line))
    return out


def properties_order(keys: list[str]) -> list[str]:
    """The order java.util.Properties iterates keys `load` put in this order: since Java 9 it is a
    ConcurrentHashMap(8), a table of 16 bins doubled when three quarters full; a bin lists its keys in insertion
    order, except that a resize moves the keys before the bin's last run to the front in reverse
    (ConcurrentHashMap.transfer)."""
    n = 16
    bins: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue  # a repeated key keeps its place and takes the last value
        seen.add(key)
        h = javaorder.java_hash(key)
        h = (h ^ (h >> 16)) & 0x7FFFFFFF
        bins[h & (n - 1)].append((h, key))
        if len(seen) >= n - (n >> 2):
            bins = _transfer(bins, n)
            n *= 2
    return [key for b in bins for _, key in b]


def _transfer(bins: list[list[tuple[int, str]]], n: int) -> list[list[tuple[int, str]]]:
    grown: list[list[tuple[int, str]]] = [[] for _ in range(2 * n)]
    for i, b in enumerate(bins):
        if not b:
            continue
        run_bit, last_run = b[0][0] & n, 0
        for j in range(1, len(b)):
            if b[j][0] & n != run_bit:
                run_bit, last_run = b[j][0] & n, j
        lo, hi = (b[last_run:], []) if run_bit == 0 else ([], b[last_run:])
        for node in b[:last_run]:
            (hi if node[0] & n else lo).insert(0, node)
        grown[i], grown[i + n] = lo, hi
    return grown


def entries(text: str) -> list[tuple[str, str]]:
    """The entries of a properties text as a Properties object iterates them: each key once, with its last
    value, in properties_order."""
    pairs = load(text)
    last = dict(pairs)
    return [(k, last[k]) for k in properties_order([k for k, _ in pairs])]


__all__ = ["entries", "load", "properties_order"]
