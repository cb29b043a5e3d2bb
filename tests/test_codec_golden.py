"""The codec against frames captured from Apache ZooKeeper 3.8 (tests/capture.py), and zoopark's frames for
the same script against ZooKeeper's, record by record."""

from __future__ import annotations

import dataclasses
import json

import pytest

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import (
    ConnectRequest,
    ConnectResponse,
    Create2Response,
    CreateResponse,
    ErrorResponse,
    GetACLResponse,
    GetAllChildrenNumberResponse,
    GetChildren2Response,
    GetChildrenResponse,
    GetDataResponse,
    GetEphemeralsResponse,
    MultiHeader,
    ReplyHeader,
    RequestHeader,
    SetACLResponse,
    SetDataResponse,
    SetSASLResponse,
    Stat,
    SyncResponse,
    WatcherEvent,
    WhoAmIResponse,
)
from zoopark.core.server.requests import _MULTI_OP_RECORDS as MULTI_OPS
from zoopark.core.server.requests import REQUEST_RECORDS

from capture import GOLDEN, run_script
from procs import ZooKeeperProcess, ZooParkProcess
from references import needs

RESPONSES = {
    OpCode.CREATE: CreateResponse,
    OpCode.CREATE2: Create2Response,
    OpCode.CREATE_CONTAINER: Create2Response,
    OpCode.CREATE_TTL: Create2Response,
    OpCode.EXISTS: SetDataResponse,  # ExistsResponse has the same single Stat
    OpCode.GET_DATA: GetDataResponse,
    OpCode.SET_DATA: SetDataResponse,
    OpCode.GET_ACL: GetACLResponse,
    OpCode.SET_ACL: SetACLResponse,
    OpCode.GET_CHILDREN: GetChildrenResponse,
    OpCode.GET_CHILDREN2: GetChildren2Response,
    OpCode.SYNC: SyncResponse,
    OpCode.GET_ALL_CHILDREN_NUMBER: GetAllChildrenNumberResponse,
    OpCode.GET_EPHEMERALS: GetEphemeralsResponse,
    OpCode.WHO_AM_I: WhoAmIResponse,
    OpCode.ADD_WATCH: ErrorResponse,
    OpCode.SASL: SetSASLResponse,
}
MULTI_RESULTS = {OpCode.CREATE: CreateResponse, OpCode.CREATE2: Create2Response, OpCode.SET_DATA: SetDataResponse,
                 OpCode.GET_DATA: GetDataResponse, OpCode.GET_CHILDREN: GetChildrenResponse,
                 OpCode.ERROR: ErrorResponse}


def load() -> list[dict]:
    assert GOLDEN.exists(), f"{GOLDEN} missing: regenerate it with python tests/capture.py"
    return [json.loads(line) for line in GOLDEN.read_text().splitlines()]


def _multi(r: Reader, records: dict) -> list:
    out = []
    while True:
        h = MultiHeader.read(r)
        out.append(h)
        if h.done:
            return out
        cls = records.get(h.type)
        if cls is not None:
            out.append(cls.read(r))


def decode(frame: dict) -> list:
    """Every record in the frame, in order; asserts the frame is consumed exactly."""
    data = bytes.fromhex(frame["hex"])
    r = Reader(data)
    recs: list = []
    if frame["op"] == "connect":
        recs.append((ConnectRequest if frame["dir"] == "c2s" else ConnectResponse).read(r))
        recs.append(r.bool())
    elif frame["dir"] == "c2s":
        h = RequestHeader.read(r)
        recs.append(h)
        if h.type in (OpCode.MULTI, OpCode.MULTI_READ):
            recs.extend(_multi(r, MULTI_OPS))
        elif REQUEST_RECORDS.get(h.type) is not None:
            recs.append(REQUEST_RECORDS[h.type].read(r))
        elif h.type == OpCode.RECONFIG:
            r.pos = r.end
    else:
        h = ReplyHeader.read(r)
        recs.append(h)
        if h.xid == -1:
            recs.append(WatcherEvent.read(r))
        elif h.err == 0 and frame["op"] in (OpCode.MULTI, OpCode.MULTI_READ):
            recs.extend(_multi(r, MULTI_RESULTS))
        elif h.err == 0 and frame["op"] in RESPONSES:
            recs.append(RESPONSES[frame["op"]].read(r))
    assert r.remaining() == 0, f"{frame['case']} {frame['dir']}: {r.remaining()} bytes left over"
    return recs


def encode(recs: list) -> bytes:
    w = Writer()
    for rec in recs:
        if isinstance(rec, bool):
            w.bool(rec)
        else:
            rec.write(w)
    return w.getvalue()


def test_every_captured_frame_round_trips():
    frames = load()
    assert len(frames) > 60
    for f in frames:
        recs = decode(f)
        if f["dir"] == "c2s" and f["op"] == OpCode.RECONFIG:
            continue
        assert encode(recs).hex() == f["hex"], f["case"]


def _normalise(rec):
    """Blank what differs between two servers by nature: times, session ids and passwords."""
    if isinstance(rec, Stat):
        return dataclasses.replace(rec, ctime=0, mtime=0, ephemeral_owner=1 if rec.ephemeral_owner else 0)
    if isinstance(rec, ConnectResponse):
        return dataclasses.replace(rec, session_id=0, passwd=b"")
    if dataclasses.is_dataclass(rec):
        return type(rec)(*(_normalise(getattr(rec, f.name)) for f in dataclasses.fields(rec)))
    if isinstance(rec, list):
        return [_normalise(x) for x in rec]
    return rec


@pytest.mark.zk
@needs("zookeeper")
def test_zoopark_answers_the_script_like_zookeeper():
    with ZooKeeperProcess(extra={"extendedTypesEnabled": "true"}) as zk:
        expected = run_script(zk.port)
    with ZooParkProcess(extra={"extendedTypesEnabled": "true"}) as zp:
        got = run_script(zp.port)
    assert [(f["case"], f["dir"]) for f in got] == [(f["case"], f["dir"]) for f in expected]
    for e, g in zip(expected, got, strict=True):
        assert _normalise(decode(g)) == _normalise(decode(e)), f"{e['case']} ({e['dir']})"


def test_final_opcode_constants_are_the_opcodes() -> None:
    """The hot path's OP_* int literals (native compares under mypyc) must be OpCode's numbers."""
    from zoopark.core.jute import constants
    finals = {name[3:]: getattr(constants, name) for name in dir(constants) if name.startswith("OP_")}
    assert len(finals) == 14
    for name, value in finals.items():
        assert type(value) is int and value == OpCode[name], name
