"""Sessions: ids, passwords, timeouts and tick-bucket expiry (ZooKeeper's SessionTrackerImpl)."""

from .table import Session, SessionTable, generate_password, initial_session_id

__all__ = ["Session", "SessionTable", "generate_password", "initial_session_id"]
