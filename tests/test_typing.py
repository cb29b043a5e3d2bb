"""The modules mypyc compiles type-check ([tool.mypy] in pyproject.toml lists them): a compiled module whose
types are wrong would raise TypeError where the pure one runs on, so this guards the compiled build."""

import subprocess
import sys
import tomllib
from pathlib import Path

from zoopark import _build

ROOT = Path(__file__).resolve().parent.parent


def test_every_compiled_module_is_type_checked():
    checked = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    missing = [d for d in _build.COMPILED_DIRS if f"src/zoopark/{d}" not in checked]
    assert not missing, f"compiled but not in [tool.mypy] files: {missing}"


def test_compiled_core_type_checks():
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
