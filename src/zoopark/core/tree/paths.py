"""Path rules of ZooKeeper's PathUtils.validatePath, and parent / child splitting."""

from __future__ import annotations

from collections.abc import Iterator


class InvalidPath(ValueError):
    pass


def _bad_char(c: str) -> bool:
    o = ord(c)
    return (
        0 < o <= 0x1F
        or 0x7F <= o <= 0x9F
        or 0xD800 <= o <= 0xF8FF
        or 0xFFF0 <= o
    )  # above 0xFFFF: Java sees a surrogate pair (0xD800-0xDFFF), which validatePath refuses


def validate_path(path: str | None) -> None:
    """Raise InvalidPath with ZooKeeper's reason if `path` is not a valid absolute znode path."""
    if (
        path
        and path[0] == "/"
        and path[-1] != "/"
        and path.isascii()
        and path.isprintable()
        and "//" not in path
        and "/." not in path
    ):
        return  # the common case, decided without a per-character loop
    if path == "/":
        return
    if path is None:
        raise InvalidPath("Path cannot be null")
    n = len(path)
    if n == 0:
        raise InvalidPath("Path length must be > 0")
    if path[0] != "/":
        raise InvalidPath("Path must start with / character")
    if n == 1:
        return
    if path[-1] == "/":
        raise InvalidPath("Path must not end with / character")
    last = "/"
    for i in range(1, n):
        c = path[i]
        if c == "\0":
            raise InvalidPath(f"null character not allowed @{i}")
        if c == "/" and last == "/":
            raise InvalidPath(f"empty node name specified @{i}")
        if c == "." and last == "." and path[i - 2] == "/" and (i + 1 == n or path[i + 1] == "/"):
            raise InvalidPath(f"relative paths not allowed @{i}")
        if c == "." and path[i - 1] == "/" and (i + 1 == n or path[i + 1] == "/"):
            raise InvalidPath(f"relative paths not allowed @{i}")
        if _bad_char(c):
            raise InvalidPath(f"invalid character @{i}")
        last = c


def is_valid_path(path: str | None) -> bool:
    try:
        validate_path(path)
    except InvalidPath:
        return False
    return True


def split(path: str) -> tuple[str, str]:
    """'/a/b' -> ('/a', 'b'); '/a' -> ('/', 'a'). The root has no parent."""
    i = path.rfind("/")
    return (path[:i] or "/", path[i + 1 :])


def parent_of(path: str) -> str:
    i = path.rfind("/")
    return path[:i] or "/"


def join(parent: str, child: str) -> str:
    return "/" + child if parent == "/" else parent + "/" + child


def ancestors_and_self(path: str) -> Iterator[str]:
    """The path, then each parent up to and including '/' (ZooKeeper's PathParentIterator order)."""
    yield path
    while path != "/":
        path = parent_of(path)
        yield path
