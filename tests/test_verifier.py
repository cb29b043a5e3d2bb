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


def test_server_lines_are_read_as_quorumserver_reads_them():
    """One parser for zoo.cfg and reconfig requests: an IPv6 literal loses its brackets (sockets take it bare),
    the role is read in any case, a signed id is a number, as in Java; an IP literal is held as Java holds it."""
    m = qv.parse_server("server.+7", "[::1]:1:2:OBSERVER;[::1]:3")
    assert (m.id, m.host, m.observer, m.client_address, m.client_port) == \
        (7, "0:0:0:0:0:0:0:1", True, "0:0:0:0:0:0:0:1", 3)
    assert m.spec() == "[0:0:0:0:0:0:0:1]:1:2:observer;[0:0:0:0:0:0:0:1]:3"


@pytest.mark.parametrize("key,value,says,unchecked", [
    ("server.1", "h:1:2|h:3:4", "Multiple address feature is disabled, but multiple addresses were specified for "
                                "sid 1", False),
    ("server.1", "h:1:2;x", "Address unresolved: null:x", False),
    ("server.1", "[::1:1:2", "[::1:1:2 starts with '[' but has no matching ']:'", False),
    ("server.1", "h:2:2", "Client and election port must be different! Please update the configuration file on "
                          "server.1", False),
    ("server.1", "h:70000:2", "port out of range:70000", True),
    ("server.y", "h:1:2", 'the server id "y" is not a number', True),
])
def test_refusals_say_what_zookeeper_says(key, value, says, unchecked):
    """ZooKeeper's messages; what it throws as a RuntimeException is Unchecked (a reconfig answers it
    MARSHALLINGERROR, not BADARGUMENTS)."""
    with pytest.raises(qv.BadServer) as e:
        qv.parse_server(key, value)
    assert says in str(e.value)
    assert isinstance(e.value, qv.Unchecked) == unchecked


def test_duplicate_addresses_leave_loopback_and_wildcards_out():
    """checkAddressDuplicate skips loopback and wildcard addresses: on 127.0.0.1 a shared port is not refused;
    on another address it is, client ports included."""
    a = qv.parse_server("server.1", "127.0.0.1:1:2;127.0.0.1:3")
    qv.check_addresses(qv.parse_server("server.2", "127.0.0.1:1:2;3"), [a])
    b = qv.parse_server("server.1", "10.1.1.1:1:2;10.1.1.1:3")
    for line in ("10.1.1.1:1:5;6", "10.1.1.1:4:5;10.1.1.1:3"):
        with pytest.raises(qv.BadServer):
            qv.check_addresses(qv.parse_server("server.2", line), [b])
    qv.check_addresses(qv.parse_server("server.2", "10.1.1.2:1:2;3"), [b])


def test_a_copied_hashmap_orders_by_its_smaller_table():
    """PrepRequestProcessor copies the last members into new HashMap<>(map): five members get a table of 8,
    so server.24 (bucket 0) comes first, as ZooKeeper's answer to such a reconfig lists it."""
    assert qv.copy_capacity(5) == 8 and qv.copy_capacity(6) == 16 and qv.copy_capacity(0) == 16
    assert qv.hashmap_order([1, 2, 3, 20, 21, 24], 8) == (24, 1, 2, 3, 20, 21)
    assert qv.hashmap_order([1, 2, 3, 20, 21, 24]) == (1, 2, 3, 20, 21, 24)


def test_a_bare_client_port_equals_its_printed_form():
    """`;2181` is every address: the line and the text /zookeeper/config prints for it (`0.0.0.0:2181`) read
    as the same member, so a configuration from a peer compares equal to the one from zoo.cfg."""
    assert qv.parse_server("server.1", "h:1:2;2181") == qv.parse_server("server.1", "h:1:2:participant;0.0.0.0:2181")
    v = qv.parse("server.1=h:1:2;2181\nserver.2=h:3:4;2182")
    assert qv.parse(v.text()).same_members(v)
