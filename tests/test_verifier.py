"""core/zab/verifier.py: ZooKeeper's QuorumServer / QuorumMaj (parse, print, quorum)."""

import pytest

from zoopark.core.zab import verifier as qv


def test_text_round_trips_as_zookeeper_prints_it():
    # The text a three-member ZooKeeper 3.8 ensemble with one observer serves in /zookeeper/config.
    text = ("server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
            "server.3=127.0.0.1:2890:3890:observer\n"
            "version=100000003")
    v = qv.parse(text)
    assert v.version == 0x100000003
    assert v.voters == {1, 2} and v.observers == {3}
    assert v.text() == text
    assert qv.parse(v.text().replace("\n", ",")) == v  # commas separate lines in a reconfig's member list


def test_order_is_javas_hashmap_order():
    # Ids past the table size land in buckets by their low bits: 17 hashes into bucket 1, before 2.
    v = qv.parse("server.2=h:1:2\nserver.17=h:3:4\nserver.1=h:5:6")
    assert [m.id for m in v.members] == [1, 17, 2]
    assert qv.from_members([qv.parse_server("server.16", "h:1:2"), qv.parse_server("server.3", "h:3:4")]) \
        .members[0].id == 16


def test_majority_of_voters():
    v = qv.parse("server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8:observer")
    assert v.has_quorum({1, 2}) and not v.has_quorum({1, 4}) and not v.has_quorum({4})
    four = qv.parse("server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8")
    assert not four.has_quorum({1, 2}) and four.has_quorum({1, 2, 3})


@pytest.mark.parametrize("key,value", [
    ("server.x", "h:1:2"),
    ("server.1", "h:1"),
    ("server.1", "h:1:2:3:4"),
    ("server.1", "h:1:2:voter"),
    ("server.1", "h:1:1"),
    ("server.1", "h:0:2"),
    ("server.1", "h:1:2;a:b:3"),
    ("server.1", "h:1:2;x"),
])
def test_bad_server_lines(key, value):
    with pytest.raises(qv.BadServer):
        qv.parse_server(key, value)


def test_client_address_defaults_to_any():
    m = qv.parse_server("server.5", "127.0.0.1:1:2:observer;2181")
    assert m.spec() == "127.0.0.1:1:2:observer;0.0.0.0:2181"
    assert qv.parse_server("server.6", "[::1]:1:2;[::1]:3").spec() == \
        "[0:0:0:0:0:0:0:1]:1:2:participant;[0:0:0:0:0:0:0:1]:3"
