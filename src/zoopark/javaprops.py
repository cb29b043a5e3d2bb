"""java.util.Properties as ZooKeeper reads and rewrites zoo.cfg: `load`'s line syntax, and the order its
entries iterate in (which is the order ZooKeeper writes a rewritten zoo.cfg in)."""

from __future__ import annotations

import re

from .core.zab.verifier import properties_order

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


def entries(text: str) -> list[tuple[str, str]]:
    """The entries of a properties text as a Properties object iterates them: each key once, with its last
    value, in properties_order."""
    pairs = load(text)
    last = dict(pairs)
    return [(k, last[k]) for k in properties_order([k for k, _ in pairs])]


__all__ = ["entries", "load", "properties_order"]
