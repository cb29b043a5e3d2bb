"""The modules mypyc compiles type-check ([tool.mypy] in pyproject.toml lists them): a compiled module whose
types are wrong would raise TypeError where the pure one runs on, so this guards the compiled build."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_compiled_core_type_checks():
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
