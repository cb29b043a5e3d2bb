"""Sessions: ids, passwords, timeouts and tick-bucket expiry (ZooKeeper's SessionTrackerImpl)."""

from .table import LOCAL_OWNER, Session, SessionTable, generate_password, initial_session_id

__all__ = ["LOCAL_OWNER", "Session", "SessionTable", "generate_password", "initial_session_id"]
