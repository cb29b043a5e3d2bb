"""ACL vectors decode the same whichever way the decoder finds them: the vector read last is recognised by
comparing its bytes in place, others through the cache or field by field. Runs of one vector, alternations,
a null or empty vector, one cut short by the frame, and buffers that are not bytes all decode as written."""

from __future__ import annotations

import random

import pytest

from zoopark.core.jute.io import JuteError, Reader, Writer
from zoopark.core.jute.records import ACL, OPEN_ACL_UNSAFE, CreateTxn, Id

VECTORS = [OPEN_ACL_UNSAFE, (ACL(31, Id("digest", "bob:X/abc=")),), (), None,
           (ACL(1, Id("world", "anyone")), ACL(31, Id("ip", "127.0.0.1"))), (ACL(31, Id("world", "anyone")),)]


def encoded(path: str, acl) -> bytes:
    w = Writer()
    CreateTxn(path, b"d", acl, False, 7).write(w)
    return w.getvalue()


@pytest.mark.parametrize("seed", range(4))
def test_a_mix_of_vectors_decodes_as_written(seed: int) -> None:
    rng = random.Random(seed)
    for i in range(400):
        acl = rng.choice(VECTORS) if rng.random() < 0.5 else VECTORS[i % 2]
        raw = encoded(f"/n{i}", acl)
        buf = rng.choice([raw, bytearray(raw), memoryview(raw)])
        got = CreateTxn.read(Reader(buf))
        want = () if acl is None else tuple(acl)  # a null vector reads as None; compare what it holds
        assert (got.path, got.data, got.parent_cversion) == (f"/n{i}", b"d", 7)
        assert (tuple(got.acl) if got.acl is not None else ()) == want
        assert (got.acl is None) == (acl is None)


def test_a_vector_cut_by_the_frame_is_an_error_even_right_after_the_same_vector_whole() -> None:
    raw = encoded("/a", OPEN_ACL_UNSAFE)
    CreateTxn.read(Reader(raw))  # now the vector read last
    start = 4 + 2 + 4 + 1  # path, data: the vector's first byte
    for end in range(start + 1, len(raw) - 5):  # the frame ends inside the vector
        with pytest.raises(JuteError):
            CreateTxn.read(Reader(raw, 0, end))


def test_a_vector_that_only_starts_like_the_last_one_is_read_field_by_field() -> None:
    a = (ACL(31, Id("world", "anyone")),)
    b = (ACL(31, Id("world", "anyone")), ACL(1, Id("ip", "10.0.0.1")))  # a different count: not a's bytes
    CreateTxn.read(Reader(encoded("/a", a)))
    assert tuple(CreateTxn.read(Reader(encoded("/b", b))).acl) == b
    assert tuple(CreateTxn.read(Reader(encoded("/a", a))).acl) == a
