"""A seeded random workload run through kazoo, producing a transcript comparable across servers.

The same seed gives the same operations; run against Apache ZooKeeper and against zoopark, the transcripts
must be equal. Everything a client sees goes in: return values, exception types, every Stat field, watch
events. Values that legitimately differ between two servers are normalised: session ids become client labels,
and wall-clock times are checked for sanity (ctime <= mtime, inside the run's window) rather than compared.
Zxids are compared as they are: both servers number every txn (session creates and closes, failed writes)
the same way, so equal histories give equal zxids.

Watch events are synchronised, not slept for: after each operation every client does a sync round trip (the
server sends events before the replies that follow them) and then waits for a marker pushed through kazoo's
callback queue behind any watch callbacks already dispatched.

Data is sometimes null (kazoo's None, length -1 on the wire) and sometimes empty: the two must stay apart. The
system nodes (/zookeeper, its quota and config children; getConfig is a getData of /zookeeper/config) are read
and written like any path. `stats` rows record what mntr, srvr and cons say that is deterministic for the same
workload. Against an ensemble, `hosts` lists its members, followers first and the leader last: clients start on
the followers and reconnect to another member; a sync through a client's own member before each operation
makes every member current, so answers do not depend on replication timing.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.serialization import Create, Create2, SetData
from kazoo.protocol.states import Callback
from kazoo.security import ACL, OPEN_ACL_UNSAFE, Id, make_digest_acl

from procs import four_letter, mntr

PATHS = ["/d", "/d/a", "/d/b", "/d/a/x", "/d/a/y", "/d/b/z", "/e", "/e/q"]
DATA = [None, b"", b"v", b"value-2", bytes(range(32))]
SYSTEM = ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"]
# mntr rows whose values are the same for the same workload (others are timings, counters of pings, ids;
# ZooKeeper's own outstanding_requests is sometimes -1 between two runs of the same workload).
MNTR_SAME = ("zk_server_state", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
             "zk_approximate_data_size", "zk_num_alive_connections",
             "zk_global_sessions", "zk_local_sessions", "zk_peer_state", "zk_quorum_size", "zk_synced_followers",
             "zk_synced_non_voting_followers", "zk_synced_observers", "zk_pending_syncs")
SRVR_SAME = ("Zxid", "Mode", "Node count", "Connections")
_CONS = re.compile(r"^\s*/[^\[]+\[(\d+)\]\((.*)\)$")
USERS = [("alice", "pw1"), ("bob", "pw2")]


class CreateContainer(Create2):
    """kazoo has no container API: the createContainer request (opcode 19) has create2's body and reply."""

    type = 19


def create_container(kz: KazooClient, path: str, data: bytes, acl=None):
    result = kz.handler.async_result()
    kz._call(CreateContainer(path, data, acl or OPEN_ACL_UNSAFE, 4), result)
    return result.get(timeout=15)


@dataclass
class Client:
    index: int
    hosts: str
    member: int = 0
    generation: int = 0
    kz: KazooClient | None = None
    events: list = field(default_factory=list)
    authed: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"c{self.index}g{self.generation}"

    def start(self) -> None:
        self.kz = KazooClient(hosts=self.hosts, timeout=10.0)
        self.kz.start(timeout=15)
        self.authed = []

    def stop(self) -> None:
        if self.kz is not None:
            local = self._local_port()
            self.kz.stop()
            self.kz.close()
            self.kz = None
            self._wait_gone(self.hosts, local)

    def move(self, member: int, hosts: str, timeout: float = 30.0) -> None:
        """Take the same session to another member: kazoo reconnects there (re-arming its watches) once the
        connection to this one drops."""
        assert self.kz is not None
        old_hosts, old_sock, local = self.hosts, self.kz._connection._socket, self._local_port()
        self.member, self.hosts = member, hosts
        self.kz.set_hosts(hosts)
        old_sock.shutdown(socket.SHUT_RDWR)
        port = int(hosts.rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        while True:
            sock = self.kz._connection._socket
            try:
                if self.kz.connected and sock is not None and sock is not old_sock and sock.getpeername()[1] == port:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.label} did not reconnect to {hosts}")
            time.sleep(0.02)
        self._wait_gone(old_hosts, local)

    def _local_port(self) -> int | None:
        sock = self.kz._connection._socket if self.kz is not None else None
        try:
            return sock.getsockname()[1] if sock is not None else None
        except OSError:
            return None

    @staticmethod
    def _wait_gone(hosts: str, local_port: int | None, timeout: float = 10.0) -> None:
        """Until the server no longer lists our old connection in cons (it notices a close asynchronously,
        and the stats rows count connections)."""
        if local_port is None:
            return
        port = int(hosts.rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        while f":{local_port}[" in four_letter(port, "cons"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server on {port} still lists connection :{local_port}")
            time.sleep(0.02)

    def watcher(self, event) -> None:
        if event.type == "NONE":
            return  # kazoo's own notice of a connection state change (its timing races the close), not a server event
        self.events.append((self.label, event.type, event.path))

    def settle(self, timeout: float = 10.0) -> None:
        """Every event the server sent before now has reached our watcher."""
        assert self.kz is not None
        self.kz.sync("/")
        done = threading.Event()
        self.kz.handler.dispatch_callback(Callback("watch", done.set, ()))
        if not done.wait(timeout):
            raise TimeoutError(f"{self.label}: kazoo callback queue did not drain")


class Run:
    def __init__(self, hosts: str | list[str], seed: int, ops: int, clients: int = 3, root: str = "",
                 ports: dict[int, str] | None = None) -> None:
        """`hosts`: one server, or an ensemble's members (followers first, the leader last); `root` prefixes
        every path (to run seeds one after another on one ensemble); `ports` names the ports that appear in
        answers (/zookeeper/config), which differ between two ensembles."""
        self.rng = random.Random(seed)
        self.seed = seed
        self.ops = ops
        self.members = [hosts] if isinstance(hosts, str) else list(hosts)
        starts = max(1, len(self.members) - 1)  # not on the leader
        self.clients = [Client(i, self.members[i % starts], i % starts) for i in range(clients)]
        self.root = root
        self.paths = [root + p for p in PATHS]
        self.ports = {str(k): v for k, v in (ports or {}).items()}
        self.sessions: dict[int, str] = {}
        self.out: list[str] = []
        self.mntr_keys: dict[str, set[str]] = {}  # member label -> every mntr key it showed
        self.t0 = 0

    # ---- normalisation -----------------------------------------------------------------------

    def _label_sessions(self) -> None:
        for c in self.clients:
            if c.kz is not None:
                self.sessions[c.kz.client_id[0]] = c.label

    def stat(self, st) -> str:
        if st is None:
            return "None"
        now = int(time.time() * 1000)
        assert self.t0 - 5000 <= st.ctime <= st.mtime <= now + 5000 or st.ctime == 0, st
        owner = self.sessions.get(st.ephemeralOwner, st.ephemeralOwner) if st.ephemeralOwner else 0
        return (f"Stat(czxid={st.czxid},mzxid={st.mzxid},pzxid={st.pzxid},version={st.version},"
                f"cversion={st.cversion},aversion={st.aversion},owner={owner},len={st.dataLength},"
                f"kids={st.numChildren})")

    def value(self, v) -> str:
        if isinstance(v, tuple) and len(v) == 2 and hasattr(v[1], "czxid"):
            return f"({v[0]!r}, {self.stat(v[1])})"
        if hasattr(v, "czxid"):
            return self.stat(v)
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x) for x in v) + "]"
        if isinstance(v, ACL):
            return f"ACL({v.perms},{v.id.scheme}:{v.id.id})"
        return repr(v)

    def record(self, who: Client, what: str, fn) -> None:
        try:
            res = self.value(fn())
        except KazooException as e:
            res = f"!{type(e).__name__}"
        self.out.append(f"{who.label} {what} -> {res}")
        self.settle()

    def settle(self) -> None:
        for c in self.clients:
            if c.kz is not None:
                c.settle()
        for c in self.clients:
            for ev in c.events:
                self.out.append(f"  event {ev[0]} {ev[1]} {ev[2]}")
            c.events.clear()

    # ---- operations --------------------------------------------------------------------------

    def _acl(self, c: Client):
        r = self.rng.random()
        if r < 0.7:
            return None
        if r < 0.85:
            user, pw = self.rng.choice(USERS)
            return [make_digest_acl(user, pw, all=True)]
        return [ACL(self.rng.choice([1, 3, 17, 31]), Id("world", "anyone"))]

    def step(self) -> None:
        rng = self.rng
        c = rng.choice(self.clients)
        kz = c.kz
        assert kz is not None
        path = rng.choice(self.paths)
        op = rng.choices(
            ["create", "delete", "set", "get", "exists", "children", "acl", "setacl", "multi", "auth",
             "reconnect", "sync", "children_stat", "system", "stats", "move"],
            weights=[20, 8, 10, 8, 8, 6, 3, 2, 6, 2, 2, 2, 3, 4, 1, 2 if len(self.members) > 1 else 0],
        )[0]
        if op == "system":  # the same reads and writes, on /zookeeper and its children
            path = rng.choice(SYSTEM)
            op = rng.choice(["get", "get", "exists", "children", "children_stat", "acl", "set", "create",
                             "delete"])
            if op == "create":
                path = rng.choice(SYSTEM) + "/x"
        if op == "stats":
            self.stats()
            return
        if op == "create":
            mode = rng.choice(["p", "e", "s", "es", "c"])
            data = rng.choice(DATA)
            acl = self._acl(c)
            kw = dict(ephemeral=mode in ("e", "es"), sequence=mode in ("s", "es"))
            if mode == "c":
                self.record(c, f"create_container {path} {data!r}",
                            lambda: create_container(kz, path, data, acl))
            else:
                self.record(c, f"create {path} {mode} {data!r} acl={acl and self.value(acl)}",
                            lambda: kz.create(path, data, acl=acl, include_data=True, **kw))
        elif op == "delete":
            v = rng.choice([-1, -1, 0, 1])
            self.record(c, f"delete {path} v={v}", lambda: kz.delete(path, version=v))
        elif op == "set":
            v = rng.choice([-1, -1, 0, 1, 2])
            data = rng.choice(DATA)
            self.record(c, f"set {path} {data!r} v={v}", lambda: kz.set(path, data, version=v))
        elif op == "get":
            w = rng.random() < 0.5
            self.record(c, f"get {path} watch={w}", lambda: kz.get(path, watch=c.watcher if w else None))
        elif op == "exists":
            w = rng.random() < 0.5
            self.record(c, f"exists {path} watch={w}", lambda: kz.exists(path, watch=c.watcher if w else None))
        elif op in ("children", "children_stat"):
            w = rng.random() < 0.5
            inc = op == "children_stat"

            def children():
                res = kz.get_children(path, watch=c.watcher if w else None, include_data=inc)
                if inc:  # children in the server's order: zoopark lists them as ZooKeeper's HashSet does
                    return [res[0], res[1]]
                return res
            self.record(c, f"{op} {path} watch={w}", children)
        elif op == "acl":
            self.record(c, f"get_acls {path}", lambda: list(kz.get_acls(path)))
        elif op == "setacl":
            acl = self._acl(c) or [ACL(31, Id("world", "anyone"))]
            v = rng.choice([-1, 0, 1])
            self.record(c, f"set_acls {path} {self.value(acl)} v={v}", lambda: kz.set_acls(path, acl, version=v))
        elif op == "multi":
            self._multi(c)
        elif op == "auth":
            user, pw = rng.choice(USERS)
            self.record(c, f"add_auth {user}", lambda: kz.add_auth("digest", f"{user}:{pw}"))
        elif op == "reconnect":
            self.out.append(f"{c.label} close session")
            c.stop()
            self.settle()
            c.generation += 1
            if len(self.members) > 1:  # to another member
                c.member = rng.choice([m for m in range(len(self.members)) if m != c.member])
                c.hosts = self.members[c.member]
            c.start()
            self._label_sessions()
            self.out.append(f"{c.label} new session on m{c.member}")
        elif op == "sync":
            self.record(c, f"sync {path}", lambda: kz.sync(path))
        elif op == "move":
            target = rng.choice([m for m in range(len(self.members)) if m != c.member])
            self.out.append(f"{c.label} moves its session to m{target}")
            c.move(target, self.members[target])
            self.settle()

    def _multi(self, c: Client) -> None:
        rng, kz = self.rng, c.kz
        assert kz is not None
        t = kz.transaction()
        desc = []
        for _ in range(rng.randint(1, 4)):
            path = rng.choice(self.paths)
            kind = rng.choice(["create", "delete", "set", "check"])
            if kind == "create":
                seq = rng.random() < 0.3
                data = rng.choice([None, b"", b"m"])
                t._add(Create(path, data, OPEN_ACL_UNSAFE, 2 if seq else 0))  # t.create refuses None
                desc.append(f"create {path} {data!r} seq={seq}")
            elif kind == "delete":
                t.delete(path)
                desc.append(f"delete {path}")
            elif kind == "set":
                v = rng.choice([-1, 0, 1])
                data = rng.choice([None, b"", b"ms"])
                t._add(SetData(path, data, v))
                desc.append(f"set {path} {data!r} v={v}")
            else:
                v = rng.choice([0, 1])
                t.check(path, v)
                desc.append(f"check {path} v={v}")

        def commit():
            return [r if not isinstance(r, Exception) else f"!{type(r).__name__}" for r in t.commit()]
        self.record(c, "multi " + "; ".join(desc), commit)

    def stats(self) -> None:
        """What each member's mntr, srvr and cons say that the same workload makes the same: the values of
        MNTR_SAME and SRVR_SAME, and each connection's cons fields (names; queued and to values)."""
        self._caught_up()
        for m, hosts in enumerate(self.members):
            host, port = hosts.rsplit(":", 1)
            rows = mntr(int(port))
            # A leader's per-learner rows are named by the learner's id, which depends on who won the election.
            self.mntr_keys.setdefault(f"m{m}", set()).update(re.sub(r"_\d+_learner_handler", "_<id>_learner_handler", k)
                                                            for k in rows)
            same = ",".join(f"{k[3:]}={rows[k]}" for k in MNTR_SAME if k in rows)
            self.out.append(f"stats m{m} mntr {same}")
            srvr = dict(line.split(": ", 1) for line in four_letter(int(port), "srvr").splitlines() if ": " in line)
            self.out.append(f"stats m{m} srvr " + ",".join(f"{k}={srvr.get(k)}" for k in SRVR_SAME))
            conns = []
            for line in four_letter(int(port), "cons").splitlines():
                match = _CONS.match(line)
                if match is None:
                    continue
                fields = dict(f.split("=", 1) for f in match.group(2).split(","))
                conns.append(f"[{match.group(1)}]({','.join(fields)};queued={fields['queued']},"
                             f"to={fields.get('to')})")
            self.out.append(f"stats m{m} cons {sorted(conns)}")

    def _caught_up(self, timeout: float = 10.0) -> None:
        """Until every member has applied what the leader (the last member) has: a member no client of ours
        is on was not synced by settle()."""
        def zxid(hosts: str) -> str | None:
            text = four_letter(int(hosts.rsplit(":", 1)[1]), "srvr")
            return next((ln.split(": ", 1)[1] for ln in text.splitlines() if ln.startswith("Zxid: ")), None)
        want = zxid(self.members[-1])
        deadline = time.monotonic() + timeout
        while any(zxid(h) != want for h in self.members[:-1]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"members did not catch up with the leader's zxid {want}")
            time.sleep(0.02)

    def dump(self) -> None:
        """The whole tree as the last client sees it."""
        kz = next(c.kz for c in self.clients if c.kz is not None)

        def walk(p: str) -> None:
            try:
                data, st = kz.get(p)
                kids = kz.get_children(p)
            except KazooException as e:
                self.out.append(f"dump {p} !{type(e).__name__}")
                return
            self.out.append(f"dump {p} {data!r} {self.stat(st)} {kids}")
            for k in kids:
                walk(p.rstrip("/") + "/" + k)
        for root in ("/d", "/e"):
            walk(self.root + root)
        walk("/zookeeper")

    def run(self) -> list[str]:
        self.t0 = int(time.time() * 1000)
        try:
            for c in self.clients:
                c.start()
            self._label_sessions()
            if self.root:
                first = self.clients[0]
                self.record(first, f"create {self.root}", lambda: first.kz.create(self.root))
            for _ in range(self.ops):
                self.step()
            self.dump()
            self.stats()
        finally:
            for c in self.clients:
                c.stop()
        if self.ports:
            self.out = [re.sub(r"(?<=:)\d+", lambda m: self.ports.get(m.group(0), m.group(0)), line)
                        for line in self.out]
        return self.out


def first_difference(a: list[str], b: list[str]) -> str | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            ctx = "\n".join(a[max(0, i - 5) : i])
            return f"line {i}:\n  context:\n{ctx}\n  zookeeper: {x}\n  zoopark:   {y}"
    if len(a) != len(b):
        return f"transcripts differ in length: {len(a)} vs {len(b)}"
    return None
