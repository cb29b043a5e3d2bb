"""The jute codec: ZooKeeper 3.8's records, opcodes and error codes, byte for byte."""

from .constants import CreateMode, Err, EventType, KeeperState, OpCode, Perm
from .io import JuteError, Reader, Writer

__all__ = ["CreateMode", "Err", "EventType", "JuteError", "KeeperState", "OpCode", "Perm", "Reader", "Writer"]
