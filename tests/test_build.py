"""Which build of the core a process runs: compiled (mypyc) or the pure source, and that it is the one asked
for. `make test` runs the suite on the compiled core (ZOOPARK_REQUIRE_COMPILED=1: a build that silently fell
back to the pure source fails here) and the core's tests again on the pure source (ZOOPARK_PURE=1)."""

import os
import subprocess
import sys

import pytest

import zoopark.core.jute.records
import zoopark.core.member.machine
import zoopark.core.server.core
import zoopark.core.zab.leader
from zoopark import _build

HOT = [zoopark.core.jute.records, zoopark.core.server.core, zoopark.core.zab.leader, zoopark.core.member.machine]


def test_the_build_asked_for_is_the_build_that_runs():
    if os.environ.get("ZOOPARK_PURE") == "1":
        assert _build.RUNNING == "pure (ZOOPARK_PURE=1)"
        assert all(m.__file__.endswith(".py") for m in HOT)
    elif os.environ.get("ZOOPARK_REQUIRE_COMPILED") == "1":
        assert _build.RUNNING == "compiled", f"the compiled core is not running: {_build.RUNNING}"
        assert not any(m.__file__.endswith(".py") for m in HOT)
    else:
        assert all(m.__file__.endswith(".py") == (_build.RUNNING != "compiled") for m in HOT)


def test_zoopark_pure_runs_the_source_even_beside_a_compiled_build():
    code = "import zoopark.core.server.core as c, zoopark._build as b; print(b.RUNNING, c.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ZOOPARK_PURE": "1"},
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.startswith("pure (ZOOPARK_PURE=1) ") and out.strip().endswith("core.py")


def test_a_source_that_differs_from_what_was_compiled_means_the_pure_source(tmp_path, monkeypatch):
    src = tmp_path / "core" / "jute" / "io.py"
    src.parent.mkdir(parents=True)
    src.write_text("x = 1\n")
    ext = src.with_name("io" + _build.importlib.machinery.EXTENSION_SUFFIXES[0])
    ext.write_bytes(b"")
    monkeypatch.setattr(_build, "PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(_build, "COMPILED_DIRS", ("core/jute",))
    monkeypatch.setattr(_build.importlib.util, "find_spec", lambda name: object())
    monkeypatch.delenv("ZOOPARK_PURE", raising=False)
    assert _build.why_pure() == "no native.sources beside the compiled core"
    (tmp_path / "native.sources").write_text(_build.manifest())
    assert _build.why_pure() is None
    src.write_text("x = 2\n")
    assert _build.why_pure() == "core/jute/io.py changed since it was compiled (make rebuilds it)"
    ext.unlink()
    assert _build.why_pure() == "zoopark.core.jute.io is not compiled"


@pytest.mark.skipif(_build.RUNNING != "compiled", reason="only a compiled build has compiled classes")
def test_compiled_values_are_read_only():
    from zoopark.core.jute.records import Stat
    from zoopark.core.server.actions import Send

    for v, attr in ((Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), "version"), (Send(1, b"x"), "conn")):
        with pytest.raises(AttributeError):
            setattr(v, attr, 0)


@pytest.mark.skipif(os.environ.get("ZOOPARK_REQUIRE_COMPILED") != "1", reason="make test's run: make wrote them")
def test_make_leaves_current_bytecode_for_every_module_a_server_imports():
    """`make compiled` writes every module's .pyc, so a server started with PYTHONDONTWRITEBYTECODE=1 does not
    compile its imports from source at each start. Python reads a .pyc only if it names its source's mtime
    and size: check exactly that."""
    import importlib.util
    import struct
    from pathlib import Path

    import zoopark.cli
    import zoopark.runtime.server  # noqa: F401 - what `zoopark server` imports
    stale = []
    for name, mod in sorted(sys.modules.items()):
        src = getattr(mod, "__file__", None) or ""
        if not name.startswith("zoopark") or not src.endswith(".py"):
            continue
        pyc = Path(importlib.util.cache_from_source(src))
        st = os.stat(src)
        head = pyc.read_bytes()[:16] if pyc.exists() else b""
        if len(head) < 16 or head[:4] != importlib.util.MAGIC_NUMBER or \
                struct.unpack("<4xIII", head)[1:] != (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF):
            stale.append(name)
    assert not stale, f"no current bytecode for {stale}"
