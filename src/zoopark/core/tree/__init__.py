"""The data tree: znodes, ACL checks, watch tables."""

from .datatree import DataTree, TreeError, TxnResult, WatchEvent

__all__ = ["DataTree", "TreeError", "TxnResult", "WatchEvent"]
