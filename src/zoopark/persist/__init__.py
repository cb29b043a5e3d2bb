"""Disk: the txn log in ZooKeeper's format and its group-commit writer thread."""
