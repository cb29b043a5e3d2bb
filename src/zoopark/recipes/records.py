"""Requests kazoo has no API for, in kazoo's request-record shape: createContainer (19), createTTL (21),
removeWatches (18), getEphemerals (103), getAllChildrenNumber (104), addWatch (106), whoAmI (107)."""

from __future__ import annotations

import struct
from collections import namedtuple

from kazoo.protocol.serialization import Create2, int_struct, read_string, write_string

ADD_WATCH_MODES = {"PERSISTENT": 0, "PERSISTENT_RECURSIVE": 1}
WATCHER_TYPES = {"c": 1, "d": 2, "a": 3}  # children, data, any


class CreateContainer(Create2):
    """create2's body and reply; the flags say container (4)."""

    type = 19


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        return bytes(Create2(self.path, self.data, self.acl, self.flags).serialize()) + struct.pack(">q", self.ttl)

    deserialize = Create2.deserialize


def _strings(data: bytes, offset: int) -> list[str]:
    count = int_struct.unpack_from(data, offset)[0]
    offset += 4
    out = []
    for _ in range(max(count, 0)):
        s, offset = read_string(data, offset)
        out.append(s)
    return out


class GetEphemerals(namedtuple("GetEphemerals", "path")):
    type = 103

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, data, offset):
        return _strings(data, offset)


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, data, offset):
        return int_struct.unpack_from(data, offset)[0]


class AddWatch(namedtuple("AddWatch", "path mode")):
    type = 106

    def serialize(self):
        return write_string(self.path) + struct.pack(">i", self.mode)

    @classmethod
    def deserialize(cls, data, offset):
        return True


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self) -> bool:  # an empty tuple is falsy, and kazoo's send loop skips falsy requests
        return True

    def serialize(self):
        return b""

    @classmethod
    def deserialize(cls, data, offset):
        count = int_struct.unpack_from(data, offset)[0]
        offset += 4
        out = []
        for _ in range(max(count, 0)):
            scheme, offset = read_string(data, offset)
            user, offset = read_string(data, offset)
            out.append((scheme, user))
        return out


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    type = 18

    def serialize(self):
        return write_string(self.path) + struct.pack(">i", self.watcher_type)

    @classmethod
    def deserialize(cls, data, offset):
        return True


def call(client, request, timeout: float = 30.0):
    """Send a request through kazoo's connection and wait for its answer (raises kazoo's exceptions)."""
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=timeout)
