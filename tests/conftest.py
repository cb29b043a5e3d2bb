"""Tests marked with references.needs(...) skip by hand and fail under make test when one is missing."""

from __future__ import annotations

import pytest

from references import missing, refuse


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "references(*names): needs these references (tests/references.py)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    names = [n for mark in item.iter_markers("references") for n in mark.args]
    absent = missing(*names)
    if absent:
        refuse(absent)
