"""Hostile bytes: the decoder only ever raises JuteError; the core and a live server survive any frame."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoopark.core.jute import records
from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.io import JuteError, Reader
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateRequest, ExistsRequest
from zoopark.core.server.actions import Frame

from corehelp import Harness, parse_reply
from procs import ZooParkProcess, four_letter
from rawclient import RawClient

RECORDS = [getattr(records, n) for n in dir(records)
           if isinstance(getattr(records, n), type) and hasattr(getattr(records, n), "read")]
OPCODES = [int(o) for o in OpCode] + [999, -100, 0x7FFFFFFF]


@given(st.sampled_from(RECORDS), st.binary(max_size=200))
@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
def test_decoding_random_bytes_raises_only_jute_errors(cls, data):
    try:
        cls.read(Reader(data))
    except JuteError:
        pass


def request_frames():
    header = st.tuples(st.integers(-10, 100), st.sampled_from(OPCODES))
    body = st.one_of(
        st.binary(max_size=120),
        # plausible prefixes: a short path, then garbage
        st.tuples(st.sampled_from([b"/", b"/a", b"/zookeeper", b"\x00"]), st.binary(max_size=40)).map(
            lambda t: struct.pack(">i", len(t[0])) + t[0] + t[1]),
    )
    return st.tuples(header, body).map(lambda t: struct.pack(">ii", *t[0]) + t[1])


@given(st.lists(st.one_of(request_frames(), st.binary(max_size=30)), min_size=1, max_size=8))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_core_survives_any_frames_and_other_sessions_carry_on(frames):
    h = Harness()
    bystander, _ = h.connect()
    assert h.request(bystander, OpCode.CREATE, CreateRequest("/a", b"v", list(OPEN_ACL_UNSAFE), 0)).err == 0
    victim, _ = h.connect()
    for f in frames:
        if victim.closed:
            break
        h.step(Frame(victim.id, f))
    for f in victim.frames:
        assert len(f) >= 16 or victim.closed, "every reply has a full header"
    rep = h.request(bystander, OpCode.EXISTS, ExistsRequest("/a", False), xid=77)
    assert rep.err == Err.OK


@pytest.fixture(scope="module")
def live():
    with ZooParkProcess(extra={"jute.maxbuffer": "65536"}) as server:
        yield server


@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
def test_live_server_survives_random_bytes(live, chunks, handshake_first):
    bystander = RawClient(live.port)
    bystander.connect()
    s = socket.create_connection(("127.0.0.1", live.port), timeout=5)
    try:
        if handshake_first:
            c = RawClient.__new__(RawClient)
            c.sock, c.buf, c.xid, c.events = s, b"", 0, []
            c.connect()
        for chunk in chunks:
            try:
                s.sendall(chunk)
            except OSError:
                break
    finally:
        s.close()
    hdr, _ = bystander.call(OpCode.EXISTS, ExistsRequest("/", False))
    assert hdr.err == 0
    bystander.close()
    assert four_letter(live.port, "ruok") == "imok"


def test_garbage_reply_headers_are_well_formed():
    """A frame with a valid header but a body of the wrong shape answers MARSHALLINGERROR, not silence."""
    h = Harness()
    c, _ = h.connect()
    h.step(Frame(c.id, struct.pack(">ii", 9, OpCode.CREATE) + b"\x00\x00"))
    rep = parse_reply(c.frames[-1])
    assert (rep.xid, rep.err) == (9, Err.MARSHALLINGERROR)
    assert c.closed is None
