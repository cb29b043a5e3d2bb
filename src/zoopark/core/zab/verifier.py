"""The ensemble's configuration as ZooKeeper 3.8's QuorumMaj holds it: members (QuorumServer: quorum and
election address, participant or observer, an optional client address) and a version; a majority of the
participants is a quorum.

The one parser of `server.N=` lines (zoo.cfg, a dynamic config file, a reconfig request) and the one printer
of the text /zookeeper/config, the election's notifications and NEWLEADER carry (QuorumMaj.toString, members
in the order Java's HashMap<Long, QuorumServer> iterates them).
"""

from __future__ import annotations

import ipaddress
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


def _port(key: str, v: str) -> int:
    try:
        p = int(v.strip())
    except ValueError:
        raise BadServer(f"{key}: {v!r} is not an integer") from None
    if not 1 <= p <= 65535:
        raise BadServer(f"{key}: {p} is not a port number (1..65535)")
    return p


def _host_and_port(s: str) -> list[str]:
    """ConfigUtils.getHostAndPort: a bracketed IPv6 literal stays whole, the rest splits on ':'."""
    s = s.strip()
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise BadServer(f"{s}: an IPv6 address without its closing bracket")
        rest = s[end + 1:]
        if rest and not rest.startswith(":"):
            raise BadServer(f"{s}: expected ':' after the IPv6 address")
        return [s[:end + 1]] + (rest[1:].split(":") if rest else [])
    return s.split(":")


def parse_server(key: str, value: str) -> Member:
    """`key` is `server.N`; `value` the rest (QuorumServer's constructor, single address)."""
    try:
        sid = int(key.strip().split(".", 1)[1])
    except (ValueError, IndexError):
        raise BadServer(f"{key}: the server id is not an integer") from None
    addr, _, client = value.partition(";")
    if ";" in client:
        raise BadServer(f"{key}: {value!r} has more than one ';'")
    parts = _host_and_port(addr)
    if len(parts) not in (3, 4):
        raise BadServer(f"{key}: {value!r} is not host:quorumPort:electionPort[:participant|observer]")
    observer = False
    if len(parts) == 4:
        if parts[3] not in ("participant", "observer"):
            raise BadServer(f"{key}: role {parts[3]!r} is neither participant nor observer")
        observer = parts[3] == "observer"
    quorum_port, election_port = _port(key, parts[1]), _port(key, parts[2])
    if quorum_port == election_port:
        raise BadServer(f"{key}: the quorum and election ports must be different")
    client_address, client_port = None, None
    if client.strip():
        c = _host_and_port(client)
        if len(c) > 2:
            raise BadServer(f"{key}: {value!r} is not ...;[clientAddress:]clientPort")
        client_address = c[0] if len(c) == 2 else None
        client_port = _port(key, c[-1])
    return Member(sid, parts[0], quorum_port, election_port, observer, client_address, client_port)


def _java_string_hash(s: str) -> int:
    """String.hashCode over UTF-16 code units, unsigned (core/tree/javaorder has the same; zab may not import
    the tree)."""
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] << 8 | b[i + 1])) & 0xFFFFFFFF
    return h


def hashmap_order(ids: list[int]) -> tuple[int, ...]:
    """The order a HashMap<Long, QuorumServer> filled with `ids` in this order iterates them: by bucket (the
    spread Long.hashCode, 16 buckets doubled past three quarters full), then insertion."""
    capacity = 16
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


def from_members(members: list[Member], version: int = 0) -> QuorumVerifier:
    """QuorumMaj(Map): the members in a HashMap's order."""
    by_id = {m.id: m for m in members}
    return QuorumVerifier(tuple(by_id[i] for i in hashmap_order(list(by_id))), version)


def parse(text: str) -> QuorumVerifier:
    """A configuration as QuorumMaj(Properties) reads it: `server.N=` lines (or commas between them) and
    `version=<hex>`; other keys are ignored. Raises BadServer."""
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
                raise BadServer(f"version: {value!r} is not a hexadecimal number") from None
        elif key.startswith(("group", "weight")):
            raise BadServer(f"{key}: hierarchical quorums are not supported")
    order = member_order([k for k, _ in items])
    return QuorumVerifier(tuple(servers[i] for i in order), version)


def check_addresses(new: Member, others: list[Member]) -> None:
    """QuorumServer.checkAddressDuplicate: no two members share a quorum or election address."""
    mine = {(new.host, new.quorum_port), (new.host, new.election_port)}
    for o in others:
        if o.id != new.id and mine & {(o.host, o.quorum_port), (o.host, o.election_port)}:
            raise BadServer(f"server.{new.id} uses an address of server.{o.id}")


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
    except (BadServer, ValueError, UnicodeDecodeError):
        return None
    except Exception:  # noqa: BLE001 - a txn we cannot decode carries no configuration for us
        return None


__all__ = ["of_ids", "of_txn", "BadServer", "Member", "QuorumVerifier", "check_addresses", "from_members", "hashmap_order",
           "java_host", "member_order", "parse", "parse_server", "properties_order"]
