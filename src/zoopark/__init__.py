"""zoopark: a coordination service that speaks Apache ZooKeeper 3.8's protocols."""

from . import _build

__version__ = "0.1.0"

_build.choose()  # compiled core or pure source, before any core module is imported
