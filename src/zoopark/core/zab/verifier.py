"""The ensemble's configuration as ZooKeeper 3.8's QuorumMaj holds it: members (QuorumServer: quorum and
election address, participant or observer, an optional client address) and a version; a majority of the
participants is a quorum.

The one parser of `server.N=` lines (zoo.cfg, a dynamic config file, a reconfig request) and the one printer
of the text /zookeeper/config, the election's notifications and NEWLEADER carry (QuorumMaj.toString, members
in the order Java's HashMap<Long, QuorumServer> iterates them).
"""

from __future__ import annotations

import ipaddress
import re
import struct
from dataclasses import dataclass, field

from ..jute.constants import OpCode
from ..jute.records import SetDataTxn
from ..jute.txns import decode_txn_entry


class BadServer(ValueError):
    """A server line or a configuration ZooKeeper's QuorumServer / QuorumMaj would refuse (ConfigException)."""


@dataclass(frozen=True, slots=True)
class Member:
    """QuorumServer: `server.<id>=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]`."""

    id: int
    host: str
    quorum_port: int
    election_port: int
    observer: bool = False
    client_address: str | None = None
    client_port: int | None = None

    def spec(self) -> str:
        """The right-hand side as QuorumServer.toString prints it (a client address only where one is given)."""
        s = f"{java_host(self.host)}:{self.quorum_port}:{self.election_port}:" \
            f"{'observer' if self.observer else 'participant'}"
        if self.client_port is not None:
            s += f";{java_host(self.client_address or '0.0.0.0')}:{self.client_port}"
        return s


def java_host(host: str) -> str:
    """An address as QuorumServer.delimitedHostString prints it: InetSocketAddress.getHostString keeps a host
    name as written and prints an IP literal as Java formats it (IPv6 in full, in brackets)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return host
    if ip.version == 4:
        return str(ip)
    return "[" + ":".join(f"{int(g, 16):x}" for g in ip.exploded.split(":")) + "]"


_WRONG_FORMAT = (" does not have the form server_config or server_config;client_config where server_config is the "
                 "pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class Unchecked(BadServer):
    """What QuorumServer / QuorumMaj throw as a RuntimeException rather than a ConfigException (Long.parseLong's
    NumberFormatException for a server id, InetSocketAddress's IllegalArgumentException for a port out of
    range): a zoo.cfg is refused all the same, but a reconfig request answers it MARSHALLINGERROR, not
    BADARGUMENTS."""


def _bare(host: str) -> str:
    """An IP literal as Java holds it, without brackets (InetSocketAddress compares addresses, so `::1` and
    `0:0:0:0:0:0:0:1` are one member's); a host name as written."""
    return java_host(host).strip("[]")


def _java_split(s: str, sep: str) -> list[str]:
    """String.split: trailing empty parts dropped (unless nothing matched)."""
    parts = s.split(sep)
    if len(parts) == 1:
        return parts
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _host_and_port(s: str) -> list[str]:
    """ConfigUtils.getHostAndPort: `host:port...`, or `[IPv6]:port...` with the brackets taken off (sockets take
    the bare literal; java_host prints it in them)."""
    if not s.startswith("["):
        return _java_split(s, ":")
    i = s.find("]")
    if i < 0:
        raise BadServer(f"{s} starts with '[' but has no matching ']:'")
    if i + 2 == len(s):
        raise BadServer(f"{s} doesn't have a port after colon")
    if i + 2 < len(s):
        return [s[1:i]] + _java_split(s[i + 2:], ":")
    return [s.replace("[", "").replace("]", "")]


def _address_port(shown_host: str, port: str) -> int:
    """new InetSocketAddress(host, Integer.parseInt(port)): a number (else ConfigException), in range (else
    IllegalArgumentException). Java takes 0 as "any free port"; zoopark needs a port others can reach."""
    if not _INTEGER.fullmatch(port):
        raise BadServer(f"Address unresolved: {shown_host}:{port}")
    p = int(port)
    if not 0 <= p <= 65535:
        raise Unchecked(f"port out of range:{p}")
    if p == 0:
        raise BadServer(f"{shown_host}:0: zoopark needs a fixed port (Java would take any free one)")
    return p


def parse_id(key: str) -> int:
    """`server.N`'s N as QuorumMaj reads it (Long.parseLong after the first '.')."""
    sid_text = key[key.find(".") + 1:]
    if not _INTEGER.fullmatch(sid_text):
        raise Unchecked(f'the server id "{sid_text}" is not a number')
    return int(sid_text)


def parse_server(key: str, value: str) -> Member:
    """`key` is `server.N`; `value` the rest, read as QuorumServer's constructor reads it (multiAddress.enabled
    off, its default): `host:quorumPort:electionPort[:participant|:observer][;[clientAddr:]clientPort]`, a host
    that may be an [IPv6] literal (kept without its brackets), the role in any case, a client part that is a
    bare port listening on every address. Raises BadServer with ZooKeeper's message (Unchecked where ZooKeeper
    throws a RuntimeException)."""
    sid = parse_id(key)
    parts = _java_split(value, ";")
    addresses = _java_split(parts[0], "|") if parts else [""]
    client_address, client_port = None, None
    if len(parts) == 2:
        client = _host_and_port(parts[1])
        if len(client) > 2:
            raise BadServer(f"{value}{_WRONG_FORMAT}")
        # A bare port listens on every address: 0.0.0.0, as QuorumServer holds it (so a line read here and the
        # same line as QuorumMaj.toString prints it are equal).
        client_address = _bare(client[0]) if len(client) == 2 else "0.0.0.0"
        # ZooKeeper names the server's host here, which is not known yet: its message says null.
        client_port = _address_port("null", client[-1])
    if len(addresses) > 1:
        raise BadServer(f"Multiple address feature is disabled, but multiple addresses were specified for sid {sid} "
                        f"(zoopark does not implement multiAddress.enabled)")
    server = _host_and_port(addresses[0])
    if len(parts) > 2 or not 3 <= len(server) <= 4:
        raise BadServer(f"{value}{_WRONG_FORMAT}")
    host = _bare(server[0])
    quorum_port = _address_port(server[0], server[1])
    election_port = _address_port(server[0], server[2])
    if quorum_port == election_port:
        raise BadServer(f"Client and election port must be different! Please update the configuration file on "
                        f"server.{sid}")
    observer = False
    if len(server) == 4:
        role = server[3].strip().lower()
        if role not in ("participant", "observer"):
            raise BadServer(f"Unrecognised peertype: {server[3]}")
        observer = role == "observer"
    return Member(sid, host, quorum_port, election_port, observer, client_address, client_port)


def _java_string_hash(s: str) -> int:
    """String.hashCode over UTF-16 code units, unsigned (core/tree/javaorder has the same; zab may not import
    the tree)."""
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] << 8 | b[i + 1])) & 0xFFFFFFFF
    return h


def copy_capacity(size: int) -> int:
    """The table of `new HashMap<>(map)` for a map of `size` entries: tableSizeFor(size / 0.75 + 1), or the
    default 16 for an empty one."""
    if size == 0:
        return 16
    wanted, capacity = int(size / 0.75 + 1.0), 1
    while capacity < wanted:
        capacity *= 2
    return capacity


def hashmap_order(ids: list[int], capacity: int = 16) -> tuple[int, ...]:
    """The order a HashMap<Long, QuorumServer> of `capacity` buckets filled with `ids` in this order iterates
    them: by bucket (the spread Long.hashCode; the table doubles past three quarters full), then insertion."""
    while len(ids) > capacity * 3 // 4:
        capacity *= 2

    def bucket(sid: int) -> int:
        h = (sid ^ (sid >> 32)) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)
    seen: dict[int, None] = dict.fromkeys(ids)
    return tuple(sorted(seen, key=bucket))


def properties_order(keys: list[str]) -> list[str]:
    """The order java.util.Properties iterates keys `load` put in this order: since Java 9 it is a
    ConcurrentHashMap(8), a table of 16 bins doubled when three quarters full; a bin lists its keys in insertion
    order, except that a resize moves the keys before the bin's last run to the front in reverse
    (ConcurrentHashMap.transfer)."""
    n = 16
    bins: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue  # a repeated key keeps its place and takes the last value
        seen.add(key)
        h = _java_string_hash(key)
        h = (h ^ (h >> 16)) & 0x7FFFFFFF
        bins[h & (n - 1)].append((h, key))
        if len(seen) >= n - (n >> 2):
            bins = _transfer(bins, n)
            n *= 2
    return [key for b in bins for _, key in b]


def _transfer(bins: list[list[tuple[int, str]]], n: int) -> list[list[tuple[int, str]]]:
    grown: list[list[tuple[int, str]]] = [[] for _ in range(2 * n)]
    for i, b in enumerate(bins):
        if not b:
            continue
        run_bit, last_run = b[0][0] & n, 0
        for j in range(1, len(b)):
            if b[j][0] & n != run_bit:
                run_bit, last_run = b[j][0] & n, j
        lo, hi = (b[last_run:], []) if run_bit == 0 else ([], b[last_run:])
        for node in b[:last_run]:
            (hi if node[0] & n else lo).insert(0, node)
        grown[i], grown[i + n] = lo, hi
    return grown


def member_order(keys: list[str]) -> tuple[int, ...]:
    """The order QuorumMaj(Properties) lists members in: the `server.N` keys in the order Properties iterates
    them, put into a HashMap<Long, QuorumServer>."""
    return hashmap_order([int(k.split(".", 1)[1]) for k in properties_order(keys) if k.startswith("server.")])


@dataclass(frozen=True, slots=True)
class QuorumVerifier:
    """QuorumMaj: `members` in the order toString prints them; `version` (the zxid of the reconfig that made
    it, 0 for a static configuration that names none)."""

    members: tuple[Member, ...]
    version: int = 0
    # Derived once (every commit asks for a quorum): the participants, the observers, half the participants.
    voters: frozenset[int] = field(init=False, repr=False, compare=False)
    observers: frozenset[int] = field(init=False, repr=False, compare=False)
    _half: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        voters = frozenset(m.id for m in self.members if not m.observer)
        object.__setattr__(self, "voters", voters)
        object.__setattr__(self, "observers", frozenset(m.id for m in self.members if m.observer))
        object.__setattr__(self, "_half", len(voters) // 2)

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(m.id for m in self.members)

    def member(self, sid: int) -> Member | None:
        return next((m for m in self.members if m.id == sid), None)

    def has_quorum(self, acks: set[int] | frozenset[int]) -> bool:
        """QuorumMaj.containsQuorum over the voters among `acks`."""
        return len(acks & self.voters) > self._half

    def with_version(self, version: int) -> QuorumVerifier:
        return QuorumVerifier(self.members, version)

    def same_members(self, other: QuorumVerifier) -> bool:
        """QuorumMaj.equals: the same members (address, role, client address), whatever the version."""
        return sorted(self.members, key=lambda m: m.id) == sorted(other.members, key=lambda m: m.id)

    def text(self) -> str:
        """QuorumMaj.toString: `server.N=...` lines, then `version=<hex>` (no final newline)."""
        return "".join(f"server.{m.id}={m.spec()}\n" for m in self.members) + f"version={self.version:x}"

    def data(self) -> bytes:
        return self.text().encode()


def from_members(members: list[Member], version: int = 0, capacity: int = 16) -> QuorumVerifier:
    """QuorumMaj(Map): the members in the order of a HashMap of `capacity` buckets they were put in."""
    by_id = {m.id: m for m in members}
    return QuorumVerifier(tuple(by_id[i] for i in hashmap_order(list(by_id), capacity)), version)


def parse(text: str, strict: bool = False) -> QuorumVerifier:
    """A configuration as QuorumMaj(Properties) reads it: `server.N=` lines (or commas between them) and
    `version=<hex>`; other keys are ignored, or with `strict` refused as parseDynamicConfig refuses them in a
    reconfig's member list. Raises BadServer."""
    items: list[tuple[str, str]] = []
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        items.append((key.strip(), value.strip()))
    servers: dict[int, Member] = {}
    version = 0
    for key, value in items:
        if key.startswith("server."):
            m = parse_server(key, value)
            servers[m.id] = m
        elif key == "version":
            try:
                version = int(value, 16)
            except ValueError:
                raise Unchecked(f"version: {value!r} is not a hexadecimal number") from None
        elif key.startswith(("group", "weight")):
            raise BadServer(f"{key}: hierarchical quorums are not supported")
        elif strict:
            raise BadServer(f"Unrecognised parameter: {key}")
    order = member_order([k for k, _ in items])
    return QuorumVerifier(tuple(servers[i] for i in order), version)


def _reachable(host: str | None, port: int | None) -> tuple[object, int] | None:
    """An address as checkAddressDuplicate compares it (InetSocketAddress.equals: the IP, the port), or None
    for one it leaves out: a wildcard or loopback address, or none. A host name stands for itself (the core
    resolves nothing), except localhost."""
    if port is None:
        return None
    host = host or "0.0.0.0"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None if host.lower() == "localhost" else (host.lower(), port)
    return None if ip.is_loopback or ip.is_unspecified else (ip, port)


def check_addresses(new: Member, others: list[Member]) -> None:
    """QuorumServer.checkAddressDuplicate: no two members share a quorum, election or client address, wildcard
    and loopback addresses aside (so members all on 127.0.0.1 are never refused, as in ZooKeeper)."""
    mine = {a for a in (_reachable(new.host, new.quorum_port), _reachable(new.host, new.election_port),
                        _reachable(new.client_address, new.client_port)) if a is not None}
    for o in others:
        theirs = {_reachable(o.host, o.quorum_port), _reachable(o.host, o.election_port),
                  _reachable(o.client_address, o.client_port)}
        if o.id != new.id and mine & theirs:
            raise BadServer(f"an address of server.{new.id} conflicts with one of server.{o.id}")


def of_ids(voters: frozenset[int], observers: frozenset[int] = frozenset()) -> QuorumVerifier:
    """A configuration of bare ids (the simulator's, and a member given only its voters): placeholder
    addresses, one host per member."""
    return from_members([Member(sid, f"member{sid}", 2888, 3888, sid in observers)
                         for sid in sorted(voters | observers)])


_TXN_TYPE = struct.Struct(">i")
_TXN_TYPE_AT = 28  # TxnHeader: clientId (8), cxid (4), zxid (8), time (8), type (4)


def of_txn(txn: bytes) -> QuorumVerifier | None:
    """The configuration a reconfig txn (a SetDataTxn typed RECONFIG) carries; None for any other txn, or
    one whose configuration cannot be read."""
    if len(txn) < _TXN_TYPE_AT + 4 or _TXN_TYPE.unpack_from(txn, _TXN_TYPE_AT)[0] != OpCode.RECONFIG:
        return None
    try:
        _, record = decode_txn_entry(txn)
        if not isinstance(record, SetDataTxn) or record.data is None:
            return None
        return parse(record.data.decode())
    except Exception:  # noqa: BLE001 - a txn we cannot decode or read as a configuration carries none for us
        return None


__all__ = ["of_ids", "of_txn", "BadServer", "Member", "Unchecked", "parse_id", "QuorumVerifier", "check_addresses", "copy_capacity", "from_members", "hashmap_order",
           "java_host", "member_order", "parse", "parse_server", "properties_order"]
