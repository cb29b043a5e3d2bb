"""A test whose reference is missing skips by hand and fails under make test, naming what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INNER = '''
import references
from references import needs

references.REFERENCES["never"] = (lambda: False, "apt-get install never-there")
references.REFERENCES["always"] = (lambda: True, "nothing")


@needs("always")
def test_present():
    pass


@needs("never")
def test_absent():
    pass
'''


def _run(tmp_path: Path, require: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ZOOPARK_REQUIRE_REFERENCES")}
    env["PYTHONPATH"] = str(Path(__file__).parent)
    if require:
        env["ZOOPARK_REQUIRE_REFERENCES"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-rA",
                           "-p", "no:xdist", str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_by_hand_a_missing_reference_skips(tmp_path: Path) -> None:
    r = _run(tmp_path, require=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed, 1 skipped" in r.stdout
    assert "never is missing: apt-get install never-there" in r.stdout


def test_under_make_test_a_missing_reference_fails_and_names_the_package(tmp_path: Path) -> None:
    r = _run(tmp_path, require=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 passed, 1 error" in r.stdout  # failed in setup, before the test could run
    assert "missing reference under make test: never is missing: apt-get install never-there" in r.stdout
