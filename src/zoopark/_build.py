"""Which modules mypyc compiles, and whether this process runs them compiled (see docs/architecture.md).

setup.py compiles COMPILED (the hot path of the pure core) into one shared library, SHARED_LIB, with a small
extension module beside each source file; Python then imports the extension instead of the source. The
Python source stays the one truth: a process runs it instead when ZOOPARK_PURE=1, when the shared library
is missing (compilation failed or was skipped), or when any source differs from what was compiled (the
build's MANIFEST of SHA-256s: an edit since the last build, and a stale build must never run). zoopark/__init__.py calls `choose()` before any
core module is imported; the choice is all or nothing, since compiled modules call each other directly.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Paths relative to src/. Not the package __init__ files (re-exports, imported once), nor schema.py (the
# records' generator, never imported at run time), nor values.py (a decorator that runs at import).
COMPILED_DIRS = ("core/jute", "core/tree", "core/session", "core/server", "core/zab", "core/member")
GROUP = "zoopark.native"
SHARED_LIB = f"{GROUP}__mypyc"
MANIFEST = "native.sources"
_SKIP = {"__init__.py", "schema.py"}


def compiled_sources() -> list[Path]:
    return sorted(p for d in COMPILED_DIRS for p in (PACKAGE_DIR / d).glob("*.py") if p.name not in _SKIP)


def _module_name(path: Path) -> str:
    return "zoopark." + ".".join(path.relative_to(PACKAGE_DIR).with_suffix("").parts)


def _extension_of(path: Path) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        ext = path.with_name(path.stem + suffix)
        if ext.exists():
            return ext
    return None


def manifest(package_dir: Path | None = None) -> str:
    """What the build compiled: a line per source, its SHA-256 and path. setup.py writes it beside the shared
    library after a build that succeeded; a process compares it with the sources it would have run."""
    base = PACKAGE_DIR if package_dir is None else package_dir
    lines = []
    for src in compiled_sources():
        rel = src.relative_to(PACKAGE_DIR)
        lines.append(f"{hashlib.sha256((base / rel).read_bytes()).hexdigest()} {rel.as_posix()}\n")
    return "".join(lines)


def why_pure() -> str | None:
    """Why this process must run the pure source; None if the compiled core is there and current."""
    if os.environ.get("ZOOPARK_PURE") == "1":
        return "ZOOPARK_PURE=1"
    if importlib.util.find_spec(SHARED_LIB) is None:
        return "not compiled"
    for src in compiled_sources():
        if _extension_of(src) is None:
            return f"{_module_name(src)} is not compiled"
    try:
        built = (PACKAGE_DIR / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return f"no {MANIFEST} beside the compiled core"
    if built != manifest():
        changed = sorted(set(manifest().splitlines()) - set(built.splitlines()))
        what = changed[0].split()[1] if changed else "the list of compiled modules"
        return f"{what} changed since it was compiled (make rebuilds it)"
    return None


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds zoopark's modules as source files only, so an extension module beside one is never imported."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("zoopark.") or path is None:
            return None
        for entry in path:
            finder = importlib.machinery.FileFinder(
                entry, (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES))
            spec = finder.find_spec(fullname)
            if spec is not None:
                return spec
        return None


RUNNING: str = "pure"  # "compiled" or "pure (<why>)" once choose() ran
_chosen = False


def choose() -> None:
    global RUNNING, _chosen
    if _chosen:
        return
    _chosen = True
    why = why_pure()
    if why is None:
        RUNNING = "compiled"
        return
    RUNNING = f"pure ({why})"
    if any(_extension_of(src) for src in compiled_sources()):
        sys.meta_path.insert(0, _SourceOnly())
