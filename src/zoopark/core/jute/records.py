"""The records of ZooKeeper 3.8's zookeeper.jute: data, client protocol and transactions.

Field order and types are the wire format; names follow zookeeper.jute in snake_case.
"""

from __future__ import annotations

import struct

from .io import INT as _INT
from .io import JuteError, Reader, Writer
from .schema import Bool, Buffer, Int, Long, OptString, Strings, UString, Vec, finalize, record

# ---- org.apache.zookeeper.data ---------------------------------------------------------------


@record
class Id:
    scheme: UString
    id: UString


@record
class ACL:
    perms: Int
    id: Id

    @staticmethod
    def read_vector(r: Reader) -> tuple[ACL, ...] | None:
        return _read_acl_vector(r)


# Nearly every request carries one of a handful of ACLs: decode each distinct byte string once and hand out
# the same tuple again, so that later stages can recognise it by identity. (ACL vectors decode to tuples.)
_ACL_VECTORS: dict[bytes, tuple] = {}
_ACL_VECTORS_MAX = 4096


def _read_acl_vector(r: Reader):
    start = r.pos
    n = r.int()
    if n == -1:
        return None
    if n < 0:
        return ()  # as Reader.vector: an empty vector
    buf, pos, end = r.buf, r.pos, r.end
    try:
        for _ in range(n):
            pos += 4
            for _ in range(2):
                (ln,) = _INT.unpack_from(buf, pos)
                pos += 4 + max(ln, 0)
    except struct.error:
        pos = end + 1
    if pos <= end:
        raw = bytes(buf[start:pos])
        acls = _ACL_VECTORS.get(raw)
        if acls is not None:
            r.pos = pos
            return acls
    r.pos = start + 4
    if n > r.remaining():
        raise JuteError(f"vector of {n} ACLs at offset {start} exceeds the frame")
    acls = tuple(ACL.read(r) for _ in range(n))
    if pos <= end and len(_ACL_VECTORS) < _ACL_VECTORS_MAX:
        _ACL_VECTORS[bytes(buf[start:r.pos])] = acls
    return acls


STAT = struct.Struct(">qqqqiiiqiiq")
STAT_PERSISTED = struct.Struct(">qqqqiiiqq")


@record
class Stat:
    czxid: Long
    mzxid: Long
    ctime: Long
    mtime: Long
    version: Int
    cversion: Int
    aversion: Int
    ephemeral_owner: Long
    data_length: Int
    num_children: Int
    pzxid: Long


@record
class StatPersisted:
    czxid: Long
    mzxid: Long
    ctime: Long
    mtime: Long
    version: Int
    cversion: Int
    aversion: Int
    ephemeral_owner: Long
    pzxid: Long


@record
class ClientInfo:
    auth_scheme: UString
    user: UString


# ---- org.apache.zookeeper.proto --------------------------------------------------------------


@record
class ConnectRequest:
    protocol_version: Int
    last_zxid_seen: Long
    time_out: Int
    session_id: Long
    passwd: Buffer


@record
class ConnectResponse:
    protocol_version: Int
    time_out: Int
    session_id: Long
    passwd: Buffer


@record
class SetWatches:
    relative_zxid: Long
    data_watches: Strings
    exist_watches: Strings
    child_watches: Strings


@record
class SetWatches2:
    relative_zxid: Long
    data_watches: Strings
    exist_watches: Strings
    child_watches: Strings
    persistent_watches: Strings
    persistent_recursive_watches: Strings


@record
class RequestHeader:
    xid: Int
    type: Int


@record
class MultiHeader:
    type: Int
    done: Bool
    err: Int


@record
class AuthPacket:
    type: Int
    scheme: UString
    auth: Buffer


@record
class ReplyHeader:
    xid: Int
    zxid: Long
    err: Int


@record
class GetDataRequest:
    path: UString
    watch: Bool


@record
class SetDataRequest:
    path: UString
    data: Buffer
    version: Int


@record
class ReconfigRequest:
    joining_servers: OptString
    leaving_servers: OptString
    new_members: OptString
    cur_config_id: Long


@record
class SetDataResponse:
    stat: Stat


@record
class GetSASLRequest:
    token: Buffer


@record
class SetSASLRequest:
    token: Buffer


@record
class SetSASLResponse:
    token: Buffer


@record
class CreateRequest:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    flags: Int


@record
class CreateTTLRequest:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    flags: Int
    ttl: Long


@record
class DeleteRequest:
    path: UString
    version: Int


@record
class GetChildrenRequest:
    path: UString
    watch: Bool


@record
class GetAllChildrenNumberRequest:
    path: UString


@record
class GetChildren2Request:
    path: UString
    watch: Bool


@record
class CheckVersionRequest:
    path: UString
    version: Int


@record
class SyncRequest:
    path: UString


@record
class SyncResponse:
    path: UString


@record
class GetACLRequest:
    path: UString


@record
class SetACLRequest:
    path: UString
    acl: Vec[ACL]
    version: Int


@record
class SetACLResponse:
    stat: Stat


@record
class AddWatchRequest:
    path: UString
    mode: Int


@record
class WatcherEvent:
    type: Int
    state: Int
    path: UString


@record
class ErrorResponse:
    err: Int


@record
class CreateResponse:
    path: UString


@record
class Create2Response:
    path: UString
    stat: Stat


@record
class ExistsRequest:
    path: UString
    watch: Bool


@record
class ExistsResponse:
    stat: Stat


@record
class GetDataResponse:
    data: Buffer
    stat: Stat


@record
class GetChildrenResponse:
    children: Strings


@record
class GetAllChildrenNumberResponse:
    total_number: Int


@record
class GetChildren2Response:
    children: Strings
    stat: Stat


@record
class GetACLResponse:
    acl: Vec[ACL]
    stat: Stat


@record
class CheckWatchesRequest:
    path: UString
    type: Int


@record
class RemoveWatchesRequest:
    path: UString
    type: Int


@record
class GetEphemeralsRequest:
    prefix_path: UString


@record
class GetEphemeralsResponse:
    ephemerals: Strings


@record
class WhoAmIResponse:
    client_info: Vec[ClientInfo]


# ---- org.apache.zookeeper.server.quorum / persistence ----------------------------------------


@record
class LearnerInfo:
    serverid: Long
    protocol_version: Int
    config_version: Long


@record
class QuorumPacket:
    type: Int
    zxid: Long
    data: Buffer
    authinfo: Vec[Id]


@record
class FileHeader:
    magic: Int
    version: Int
    dbid: Long


# ---- org.apache.zookeeper.txn ----------------------------------------------------------------


@record
class TxnDigest:
    version: Int
    tree_digest: Long


@record
class TxnHeader:
    client_id: Long
    cxid: Int
    zxid: Long
    time: Long
    type: Int


@record
class CreateTxnV0:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    ephemeral: Bool


@record
class CreateTxn:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    ephemeral: Bool
    parent_cversion: Int


@record
class CreateTTLTxn:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    parent_cversion: Int
    ttl: Long


@record
class CreateContainerTxn:
    path: UString
    data: Buffer
    acl: Vec[ACL]
    parent_cversion: Int


@record
class DeleteTxn:
    path: UString


@record
class SetDataTxn:
    path: UString
    data: Buffer
    version: Int


@record
class CheckVersionTxn:
    path: UString
    version: Int


@record
class SetACLTxn:
    path: UString
    acl: Vec[ACL]
    version: Int


@record
class SetMaxChildrenTxn:
    path: UString
    max: Int


@record
class CreateSessionTxn:
    time_out: Int


@record
class CloseSessionTxn:
    paths2_delete: Strings


@record
class ErrorTxn:
    err: Int


@record
class Txn:
    type: Int
    data: Buffer


@record
class MultiTxn:
    txns: Vec[Txn]


finalize()


# Stat is on every hot reply: encode and decode it with one precompiled struct.
def _stat_read(r: Reader) -> Stat:
    return Stat(*STAT.unpack_from(r.buf, r._need(STAT.size)))


def _stat_write(self: Stat, w: Writer) -> None:
    w.parts.append(STAT.pack(
        self.czxid, self.mzxid, self.ctime, self.mtime, self.version, self.cversion, self.aversion,
        self.ephemeral_owner, self.data_length, self.num_children, self.pzxid,
    ))


Stat.read = staticmethod(_stat_read)  # type: ignore[attr-defined]
Stat.write = _stat_write  # type: ignore[attr-defined]
EMPTY_STAT = Stat(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

ANYONE_ID = Id("world", "anyone")
OPEN_ACL_UNSAFE = (ACL(31, ANYONE_ID),)
CREATOR_ALL_ACL = (ACL(31, Id("auth", "")),)
READ_ACL_UNSAFE = (ACL(1, ANYONE_ID),)
