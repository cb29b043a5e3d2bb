"""The examples run as documented: the fleet survives the kill of a service and of the zoopark leader with
no failed call; the coordination examples do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from procs import ZooParkProcess

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))


@pytest.mark.xdist_group("ensembles")
def test_the_fleet_survives_a_service_and_a_server_dying() -> None:
    r = subprocess.run([sys.executable, str(EXAMPLES / "fleet" / "run.py"), "--calls", "150"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert "killed service echo-2" in lines and any(line.startswith("killed zoopark server") for line in lines)
    assert lines[-1] == "no call failed"


def test_coordination_examples() -> None:
    import coordination as ex

    with ZooParkProcess() as zp:
        led = ex.election(zp.hosts, out=lambda s: None)
        assert sorted(led) == ["candidate-0", "candidate-1", "candidate-2"]
        events = ex.barrier(zp.hosts, out=lambda s: None)
        assert sorted(events[:3]) == ["in 0", "in 1", "in 2"] and sorted(events[3:]) == ["out 0", "out 1", "out 2"]
        first, second = ex.fenced_lock(zp.hosts, out=lambda s: None)
        assert second > first
        assert ex.queue(zp.hosts, out=lambda s: None) == [b"a", b"b"]
