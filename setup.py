"""The build: the pure package (pyproject.toml), plus its hot-path core compiled with mypyc when that works.

mypyc turns the typed modules listed in src/zoopark/_build.py into C extensions (one shared library and a
small extension per module). Any failure here (no mypyc, a type error, no C compiler, a compile error) leaves
the pure package, which runs as it is; ZOOPARK_PURE=1 skips compilation. See docs/architecture.md.
"""

from __future__ import annotations

import os
import runpy
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class BuildExtOrPure(build_ext):
    """Build the compiled core whole or not at all: a failed extension leaves the pure source in charge."""

    def run(self) -> None:
        if not self.extensions:
            return
        build = runpy.run_path(os.path.join(ROOT, "src", "zoopark", "_build.py"))
        lib = self.get_ext_fullpath(build["SHARED_LIB"])
        stamp = os.path.join(os.path.dirname(lib), build["MANIFEST"])
        if os.path.exists(stamp):
            os.unlink(stamp)
        try:
            super().run()
        except Exception as e:  # noqa: BLE001 - any compile failure means the pure package, not no package
            print(f"zoopark: the compiled core did not build ({e}); the pure source will run", file=sys.stderr)
            return
        # What was compiled, so that a process never runs a build older than its sources (_build.why_pure)
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(build["manifest"]())


def compiled_extensions() -> list:
    if os.environ.get("ZOOPARK_PURE") == "1":
        return []
    build = runpy.run_path(os.path.join(ROOT, "src", "zoopark", "_build.py"))
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("zoopark: mypyc is not installed; the pure source will run", file=sys.stderr)
        return []
    paths = [os.path.relpath(p, ROOT) for p in build["compiled_sources"]()]
    try:
        return mypycify(paths, opt_level="3", debug_level="0", group_name=build["GROUP"])
    except (Exception, SystemExit) as e:  # mypyc exits on a type error
        print(f"zoopark: mypyc failed ({e!r}); the pure source will run", file=sys.stderr)
        return []


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": BuildExtOrPure})
