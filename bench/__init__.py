"""Benchmarks: the same load against zoopark and Apache ZooKeeper, side by side (python -m bench.run)."""

import sys
from pathlib import Path

# tests/procs.py (the server processes) imports its neighbours (references) by their bare names, as pytest
# puts tests/ on the path; so does the bench.
_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)
