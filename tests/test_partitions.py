"""Real network partitions: members each in a network namespace of their own, kazoo clients in namespaces of
theirs on both sides of the cut, links cut with iptables DROP rules (tests/netns.py). Faults: the leader
isolated, the ensemble split in halves (the leader on either side), a follower isolated, a client cut off
from the follower it uses, the leader or a follower killed with SIGKILL and restarted, the leader frozen
with SIGSTOP and thawed; three and five members.

Four writer clients do compare-and-set (create / set / delete with versions) on three keys and creates of
znodes of their own the whole time, each holding an ephemeral znode /e/<name> (a registry's entry); with
read-only mode on, a read-only client reads. A partition puts two writers and the reader with the minority,
two writers with the majority.

What must hold, after every run:
  - no acknowledged write lost (every acknowledged create of a client's own znode is there; the keys'
    histories, ended with a read of each, are linearizable: src/zoopark/sim/linear.py),
  - no write answered on the minority side while it was cut off (a minority cannot commit),
  - the sessions of cut-off writers expire on the majority (their ephemeral znodes go),
  - no member exits or refuses to start,
  - every member converges after healing (the same last zxid and the same tree).
Each fault's figures (fail-over time, what each side's clients saw, time to rejoin and catch up) are printed,
and appended as JSON lines to $ZOOPARK_PARTITION_REPORT when it is set (tests/partition_report.py sums them
up; docs/partitions.md quotes them). ZOOPARK_PARTITION_LOGS=dir keeps every member's whole log there.

make test runs two fixed schedules (three and five members) and the cut-off client. ZOOPARK_PARTITION_RUNS=n
(ZOOPARK_SOAK=1: 20) adds n seeded schedules of six faults each, alternately on three and five members, and
runs the fixed ones on Apache ZooKeeper 3.8 too; ZOOPARK_PARTITION_SERVER=zookeeper runs the seeded ones
there.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotReadOnlyCallError,
)
from kazoo.handlers.threading import KazooTimeoutError

import netns
from zoopark.sim.linear import Op, check_by_key

from procs import ZooKeeperProcess, ZooParkProcess, close_clients, four_letter, znode_tree
from references import needs, unavailable

pytestmark = [pytest.mark.xdist_group("ensembles"), needs("root")]

RUNS = int(os.environ.get("ZOOPARK_PARTITION_RUNS") or (20 if os.environ.get("ZOOPARK_SOAK") else 0))
TICK_MS = 500
SYNC_LIMIT = 5            # ticks: a follower gives up a leader silent for 2.5 s, a leader a quorum as long
SESSION_S = 10.0          # clients' session timeout
REGISTRATION_S = 45.0     # a cut-off client's session expires on the majority within this of the cut (its
                          # timeout, an election, the new leader's fresh timeout, and slack)
RO_SESSION_S = 4.0        # the read-only client's (kazoo waits a whole session timeout on a TCP connect to a
                          # server it cannot reach, and cut servers drop the SYN: the reader moves faster)
OP_S = 3.0                # a client gives an operation up (outcome unknown) after this
WAIT_S = 90.0             # any wait for the ensemble (election, rejoin, catch-up)
KEYS = ("/k0", "/k1", "/k2")
SERVING = ("leader", "follower")


def now() -> float:
    return time.monotonic()


# ---- members -------------------------------------------------------------------------------------------


class InNamespace:
    """A member inside its namespace: the same ports as every other member (each namespace has its own), its
    client port on its namespace's address."""

    node: netns.Node
    port: int
    host: str

    def place(self, node: netns.Node, my_id: int) -> None:
        self.node = node
        self.host = node.addr
        (self.data_dir / "myid").write_text(f"{my_id}\n")

    def command(self, cfg: Path) -> list[str]:
        return [*self.node.exec_prefix(), *super().command(cfg)]

    def srvr(self) -> dict[str, str]:
        """srvr's rows, or {} while the member does not answer (cut off from the root namespace it is not:
        frozen, dead, or between roles)."""
        try:
            text = four_letter(self.port, "srvr", host=self.host, timeout=1.0)
        except OSError:
            return {}
        return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)

    def mode(self) -> str:
        return self.srvr().get("Mode", "")


class Member(InNamespace, ZooParkProcess):
    def __init__(self, node: netns.Node, my_id: int, extra: dict[str, str], read_only: bool) -> None:
        super().__init__(extra={**extra, "clientPortAddress": node.addr,
                                "readonlymode.enabled": str(read_only).lower()}, port=2181)
        self.place(node, my_id)


class ZooKeeperMember(InNamespace, ZooKeeperProcess):
    """Apache ZooKeeper 3.8 in the same place: the reference the figures are compared with."""

    def __init__(self, node: netns.Node, my_id: int, extra: dict[str, str], read_only: bool) -> None:
        # ZooKeeper reads read-only mode as a system property, and serves it only with local sessions; a local
        # session creating an ephemeral znode (a writer's registration) must then be upgraded to a global one.
        flag = str(read_only).lower()
        super().__init__(extra={**extra, "clientPortAddress": node.addr, "localSessionsEnabled": flag,
                                "localSessionsUpgradingEnabled": flag},
                         port=2181, jvm_props={"readonlymode.enabled": flag})
        self.place(node, my_id)


# ---- clients -------------------------------------------------------------------------------------------


@dataclass
class Write:
    client: str
    invoked: float
    responded: float = math.inf  # inf: the client never learned the outcome
    outcome: str = ""            # ok | exists | nonode | badversion | notreadonly | the exception's name
    value: object = field(default=None, repr=False)  # what the call returned

    @property
    def answered(self) -> bool:
        """The server answered (success or a write's error reply: in ZooKeeper both go through the quorum)."""
        return self.responded != math.inf and self.outcome != "notreadonly"


class Worker(threading.Thread):
    """One kazoo client in its own namespace, connected to every member (it reaches those on its side)."""

    def __init__(self, node: netns.Node, hosts: str, seed: int, read_only: bool = False) -> None:
        super().__init__(name=node.name, daemon=True)
        self.node = node
        self.hosts = hosts
        self.rng = random.Random(seed)
        self.read_only = read_only
        self.stop = threading.Event()
        self.started = threading.Event()
        self.log: list[tuple[str, Op]] = []      # compare-and-set history on KEYS
        self.writes: list[Write] = []            # every write and what became of it
        self.acked: list[str] = []               # its own znodes whose create was acknowledged
        self.reads: list[tuple[float, float, str]] = []  # read-only client: (invoked, responded, state)
        self.states: list[tuple[float, str]] = []
        self.crash: BaseException | None = None
        self.ids = iter(range(seed * 10**7, (seed + 1) * 10**7))
        self.known: dict[str, int] = {}          # the last version this client saw of each key
        self.registered: int | None = None       # the session its ephemeral znode belongs to

    def run(self) -> None:
        try:
            netns.enter(self.node.ns)
            kz = KazooClient(self.hosts, timeout=RO_SESSION_S if self.read_only else SESSION_S, read_only=self.read_only,
                             connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.3})
            kz.add_listener(lambda state: self.states.append((now(), str(state))))
            try:
                kz.start(timeout=60)
                self.started.set()
                for _ in range(10**6):
                    if self.stop.is_set():
                        break
                    self.read_step(kz) if self.read_only else self.write_step(kz)
                    time.sleep(0.02)  # pacing: two cores run every member and client
            finally:
                close_clients([kz])
        except BaseException as e:  # noqa: BLE001 - the test reports it
            self.crash = e

    def write_step(self, kz: KazooClient) -> None:
        session = kz.client_id[0] if kz.client_id else None
        if session is not None and session != self.registered:
            # Its registration, as a service registry's instance: an ephemeral znode, made again by each new
            # session (an expired session's went with it).
            if self.attempt(lambda: kz.create_async(f"/e/{self.node.name}", ephemeral=True).get(timeout=OP_S)
                            ).outcome == "ok":
                self.registered = session
            return
        n = next(self.ids)
        if self.rng.random() < 0.25:
            path = f"/u/{self.node.name}-{n}"
            w = self.attempt(lambda: kz.create_async(path, b"").get(timeout=OP_S))
            if w.outcome == "ok":
                self.acked.append(path)
            return
        key = self.rng.choice(KEYS)
        kind = self.rng.choice(["create", "set", "set", "delete"])
        data = f"{self.node.name}-{n}".encode()
        known = self.known.get(key, 0)
        version = self.rng.choice([-1, known, known + 1])
        if kind == "create":
            args, call = (data,), lambda: kz.create_async(key, data).get(timeout=OP_S)
        elif kind == "set":
            args, call = (data, version), lambda: kz.set_async(key, data, version).get(timeout=OP_S)
        else:
            args, call = (version,), lambda: kz.delete_async(key, version).get(timeout=OP_S)
        w = self.attempt(call)
        result: object = w.outcome
        if kind == "set" and w.outcome == "ok":
            result = ("ok", w.value.version)
            self.known[key] = w.value.version
        elif kind == "create" and w.outcome == "ok":
            self.known[key] = 0
        responded = w.responded if w.outcome in ("ok", "exists", "nonode", "badversion") else math.inf
        self.log.append((key, Op(n, self.node.name, kind, args, w.invoked, responded,
                                 result if responded != math.inf else None)))

    def attempt(self, call) -> Write:
        w = Write(self.node.name, now())
        try:
            w.value = call()
            w.outcome = "ok"
        except NodeExistsError:
            w.outcome = "exists"
        except NoNodeError:
            w.outcome = "nonode"
        except BadVersionError:
            w.outcome = "badversion"
        except NotReadOnlyCallError:
            w.outcome = "notreadonly"
        except (KazooException, KazooTimeoutError) as e:
            w.outcome = type(e).__name__
        if w.outcome in ("ok", "exists", "nonode", "badversion", "notreadonly"):
            w.responded = now()
        else:
            time.sleep(0.05)  # pacing while the ensemble fails over, not a synchronisation
        self.writes.append(w)
        return w

    def read_step(self, kz: KazooClient) -> None:
        t0 = now()
        state = str(kz.client_state)
        try:
            kz.get_async("/k0").get(timeout=OP_S)
            self.reads.append((t0, now(), state))
        except NoNodeError:
            self.reads.append((t0, now(), state))
        except (KazooException, KazooTimeoutError):
            time.sleep(0.05)  # pacing, as above
        if self.rng.random() < 0.1:  # and now and then a write, which a read-only server must refuse
            self.attempt(lambda: kz.set_async("/r", b"ro", -1).get(timeout=OP_S))  # absent: nonode if served


# ---- the ensemble under test ---------------------------------------------------------------------------


@dataclass
class Ensemble:
    fabric: netns.Fabric
    n: int
    read_only: bool
    seed: int
    kind: type[Member | ZooKeeperMember] = Member
    members: dict[int, Member | ZooKeeperMember] = field(default_factory=dict)
    writers: list[Worker] = field(default_factory=list)
    reader: Worker | None = None
    down: set[int] = field(default_factory=set)      # killed on purpose and not restarted yet
    frozen: set[int] = field(default_factory=set)    # SIGSTOPped
    figures: list[dict] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        nodes = {i: self.fabric.add(f"m{i}") for i in range(1, self.n + 1)}
        extra = {"tickTime": str(TICK_MS), "initLimit": "10", "syncLimit": str(SYNC_LIMIT),
                 **{f"server.{i}": f"{node.addr}:2888:3888" for i, node in nodes.items()}}
        self.members = {i: self.kind(node, i, extra, self.read_only) for i, node in nodes.items()}
        self.hosts = ",".join(f"{p.host}:{p.port}" for p in self.members.values())

    @property
    def ids(self) -> set[int]:
        return set(self.members)

    # ---- watching ----

    def check_alive(self) -> None:
        for i, p in self.members.items():
            if i not in self.down and p.proc is not None and p.proc.poll() is not None:
                self.violations.append(f"member {i} exited with {p.proc.returncode}")
                raise AssertionError(f"member {i} exited with {p.proc.returncode}:\n{p.log_tail(60)}")

    def wait(self, what: str | Callable[[], str], fn, timeout: float = WAIT_S):
        deadline = now() + timeout
        while now() < deadline:
            self.check_alive()
            got = fn()
            if got:
                return got
            time.sleep(0.05)
        what = what if isinstance(what, str) else what()
        # The run ends here: its summary says so (with what it recorded until now), for the report.
        log = [op for w in self.writers for _, op in w.log]
        self.report({"seed": self.seed, "kind": self.kind.__name__, "members": self.n, "faults": len(self.figures),
                     "operations": len(log), "determinate": sum(op.determinate for op in log),
                     "acknowledged creates": sum(len(w.acked) for w in self.writers),
                     "member_errors": self.logged_errors(),
                     "failures": [*self.violations, f"never: {what} (within {timeout:.0f} s)"]})
        raise AssertionError(f"never: {what} (seed {self.seed})\n{self.state()}")

    def state(self) -> str:
        out = []
        for i, p in self.members.items():
            out.append(f"--- member {i} ({p.host}, {'frozen' if i in self.frozen else p.mode()!r}):\n"
                       f"{p.log_tail(25)}")
        return "\n".join(out)

    def settled(self, ids: set[int] | None = None) -> int:
        """Wait until exactly one of `ids` (default all) leads and the others follow it; the leader's id."""
        ids = self.ids if ids is None else ids

        def leader() -> int | None:
            modes = {i: self.members[i].mode() for i in ids}
            leaders = [i for i, m in modes.items() if m == "leader"]
            return leaders[0] if len(leaders) == 1 and all(m in SERVING for m in modes.values()) else None
        return self.wait(f"one leader among {sorted(ids)}", leader)

    def zxid(self, i: int) -> int:
        z = self.members[i].srvr().get("Zxid")
        return int(z, 16) if z else -1

    def watch(self, conditions: dict, timeout: float = WAIT_S) -> dict[str, float]:
        """Wait until every condition holds, all watched at once; when each first held (a condition may
        return the moment itself, a float, or just True)."""
        marks: dict[str, float] = {}

        def all_held() -> bool:
            for name, fn in conditions.items():
                if name not in marks:
                    got = fn()
                    if got is True:
                        marks[name] = now()
                    elif got:
                        marks[name] = got
            return len(marks) == len(conditions)
        self.wait(lambda: f"{sorted(set(conditions) - set(marks))}", all_held, timeout)
        return marks

    # ---- life ----

    def start(self, writers: int = 4) -> None:
        for p in self.members.values():
            p.start(wait=False)
        self.settled()
        root = KazooClient(self.hosts, timeout=SESSION_S)
        root.start(timeout=30)
        root.ensure_path("/u")
        root.ensure_path("/e")
        close_clients([root])
        names = [f"c{k}" for k in range(1, writers + 1)]
        self.writers = [Worker(self.fabric.add(name), self.hosts, self.seed * 100 + k)
                        for k, name in enumerate(names)]
        if self.read_only and writers:
            self.reader = Worker(self.fabric.add("r1"), self.hosts, self.seed * 100 + 99, read_only=True)
        for w in self.workers:
            w.start()
        for w in self.workers:
            assert w.started.wait(60), f"client {w.name} did not connect: {w.crash!r}"

    @property
    def workers(self) -> list[Worker]:
        return self.writers + ([self.reader] if self.reader else [])

    def logged_errors(self) -> dict[int, list[str]]:
        """What each member logged at ERROR or with a traceback (reported with the figures, not judged: the
        invariants are)."""
        out = {}
        for i, p in self.members.items():
            text = p.log_path.read_text(errors="replace") if p.log_path.exists() else ""
            lines = [line for line in text.splitlines() if " ERROR " in line or line.startswith("Traceback")
                     or "Error:" in line]
            if lines:
                out[i] = lines[:20]
        return out

    def close(self) -> None:
        keep = os.environ.get("ZOOPARK_PARTITION_LOGS")
        if keep:  # every member's whole log, to read a failure after the run
            out = Path(keep) / f"seed{self.seed}-{self.kind.__name__}"
            out.mkdir(parents=True, exist_ok=True)
            for i, p in self.members.items():
                if p.log_path.exists():
                    (out / f"m{i}.log").write_bytes(p.log_path.read_bytes())
        for w in self.workers:
            w.stop.set()
        for w in self.workers:
            w.join(60)
        for i in self.frozen:
            os.kill(self.members[i].pid, signal.SIGCONT)
        for p in self.members.values():
            p.cleanup()

    # ---- faults ----

    def partition(self, minority: set[int]) -> dict:
        """Cut `minority` (members) with two writers and the reader off the rest; wait for the majority to
        serve writes and the minority to stop serving them; heal; wait for every member to rejoin and catch
        up."""
        leader = self.settled()
        majority = self.ids - minority
        few, many = self.writers[:2] + ([self.reader] if self.reader else []), self.writers[2:]
        # A registry's view from the majority (the root namespace, never cut, talking to majority members
        # only): when the cut-off writers' ephemeral znodes go. Their sessions expire there: the majority
        # cannot tell a cut-off client from a dead one.
        observer = KazooClient(",".join(f"{self.members[i].host}:2181" for i in sorted(majority)), timeout=SESSION_S,
                               connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.3})
        observer.start(timeout=60)

        def registered(workers: list[Worker]) -> list[bool] | None:
            """Whether each one's ephemeral znode is there, as the majority sees it (None: cannot tell now)."""
            try:
                return [observer.exists(f"/e/{k.node.name}") is not None for k in workers]
            except (KazooException, KazooTimeoutError):
                return None  # the majority is electing
        self.wait("every writer registered", lambda: all(registered(self.writers) or [False]))
        t0 = now()
        self.fabric.cut({f"m{i}" for i in minority} | {w.node.name for w in few},
                        {f"m{i}" for i in majority} | {w.node.name for w in many})
        t_cut = now()
        elected: list[int] = []

        def majority_leads() -> bool:
            modes = {i: self.members[i].mode() for i in majority}
            leaders = [i for i, m in modes.items() if m == "leader"]
            elected[:] = leaders
            return len(leaders) == 1 and all(m in SERVING for m in modes.values())

        def ack() -> float | None:
            times = [w.responded for k in many for w in list(k.writes) if w.invoked >= t_cut and w.outcome == "ok"]
            return min(times) if times else None

        conditions = {
            "majority_elected": majority_leads,
            "failover": ack,
            "minority_stepdown": lambda: all(self.members[i].mode() not in SERVING for i in minority),
        }
        def ro_read() -> float | None:
            reads = [r for r in list(self.reader.reads) if r[0] >= t_cut and r[2] == "CONNECTED_RO"]
            return reads[0][1] if reads else None
        # A read-only server refuses a client that has seen a later zxid than its own (the client must not go
        # back in time), so the reader is sure to be served on the minority only when the old leader, which
        # has every zxid, is there.
        if self.reader is not None and leader in minority:
            conditions["ro_first_read"] = ro_read

        cut_off = [k for k in few if not k.read_only]

        def registrations_gone() -> bool | float:
            if registered(cut_off) == [False] * len(cut_off):
                return True
            if now() < t0 + REGISTRATION_S:
                return False
            # A violation, recorded (the run goes on, to find what else breaks) and failed on at the end.
            self.violations.append(f"seed {self.seed}: the sessions of {[k.name for k in cut_off]}, cut off with "
                                   f"members {sorted(minority)}, did not expire on the majority within "
                                   f"{REGISTRATION_S:.0f} s: their ephemeral znodes are still there")
            return math.inf
        conditions["minority_registrations_gone"] = registrations_gone
        try:
            marks = self.watch(conditions)
        finally:
            close_clients([observer])
        new_leader = elected[0]
        fig: dict = {"fault": "partition", "members": self.n, "minority": sorted(minority),
                     "leader_in_minority": leader in minority, "new_leader": new_leader, "cut_s": t_cut - t0,
                     **{f"{name}_s": t - t0 if t != math.inf else None for name, t in marks.items()}}
        stepdown = marks["minority_stepdown"]
        # The majority goes on writing, so that the minority has something to catch up with.
        self.wait("ten more acknowledged writes on the majority",
                  lambda: sum(w.outcome == "ok" and w.invoked >= stepdown for k in many for w in list(k.writes))
                  >= 10)
        if self.reader is not None and "ro_first_read" not in marks and ro_read():
            fig["ro_first_read_s"] = ro_read() - t0
        target = self.zxid(new_leader)
        t_heal = now()
        self.fabric.heal()
        self.settled()
        fig["rejoin_s"] = now() - t_heal
        self.wait("every member caught up with the majority's writes",
                  lambda: all(self.zxid(i) >= target for i in self.ids))
        fig["caught_up_s"] = now() - t_heal
        fig.update(self.side_view("minority", few, t_cut, t_heal))
        fig.update(self.side_view("majority", many, t_cut, t_heal))
        for k in few:  # the minority cannot commit: a write it answered while cut off is a violation
            for w in list(k.writes):
                if t_cut <= w.invoked and w.answered and w.responded < t_heal:
                    self.violations.append(f"seed {self.seed}: {k.name} on the minority was answered "
                                           f"{w.outcome!r} at +{w.invoked - t_cut:.3f}s of the cut")
        return fig

    def side_view(self, side: str, workers: list[Worker], t_cut: float, t_heal: float) -> dict:
        """What the clients on one side saw while cut off: the outcomes of the writes they tried, their
        kazoo states (seconds after the cut), how many reads the read-only client was served."""
        seen: Counter[str] = Counter(w.outcome for k in workers for w in list(k.writes) if t_cut <= w.invoked < t_heal)
        states = [(round(t - t_cut, 2), k.name, s) for k in workers for t, s in list(k.states) if t_cut <= t < t_heal]
        firsts = {k.name: round(min(w.responded for w in ok) - t_cut, 3) for k in workers
                  if (ok := [w for w in list(k.writes) if w.outcome == "ok" and t_cut <= w.invoked < t_heal])}
        out = {f"{side}_writes": dict(seen), f"{side}_states": sorted(states), f"{side}_first_ack_s": firsts}
        if any(k is self.reader for k in workers):
            out["ro_reads"] = sum(1 for r in list(self.reader.reads) if t_cut <= r[0] < t_heal)
        return out

    def survivors_take_over(self, victim: int, t0: float) -> dict:
        """Watch the members but `victim` elect (or keep) a leader, and the first write acknowledged since t0."""
        others = self.ids - {victim}
        elected: list[int] = []

        def leads() -> bool:
            modes = {i: self.members[i].mode() for i in others}
            elected[:] = [i for i, m in modes.items() if m == "leader"]
            return len(elected) == 1 and all(m in SERVING for m in modes.values())

        def ack() -> float | None:
            times = [w.responded for k in self.writers for w in list(k.writes)
                     if w.invoked >= t0 and w.outcome == "ok"]
            return min(times) if times else None
        marks = self.watch({"elected": leads, "failover": ack})
        return {"new_leader": elected[0], **{f"{name}_s": t - t0 for name, t in marks.items()}}

    def kill(self, victim: int) -> dict:
        leader = self.settled()
        p = self.members[victim]
        t0 = now()
        self.down.add(victim)
        p.kill()
        fig = {"fault": "kill -9", "members": self.n, "victim": victim, "victim_was_leader": victim == leader,
               **self.survivors_take_over(victim, t0)}
        t_restart = now()
        p.start(wait=False)
        self.down.discard(victim)
        self.settled()
        fig["restart_rejoin_s"] = now() - t_restart
        return fig

    def freeze(self, victim: int) -> dict:
        leader = self.settled()
        pid = self.members[victim].pid
        t0 = now()
        self.frozen.add(victim)
        os.kill(pid, signal.SIGSTOP)
        try:
            fig = {"fault": "SIGSTOP", "members": self.n, "victim": victim, "victim_was_leader": victim == leader,
                   **self.survivors_take_over(victim, t0)}
        finally:
            t_thaw = now()
            os.kill(pid, signal.SIGCONT)
            self.frozen.discard(victim)
        self.settled()
        fig["thaw_rejoin_s"] = now() - t_thaw
        return fig

    def fault(self, kind: str, rng: random.Random) -> None:
        leader = self.settled()
        others = sorted(self.ids - {leader})
        half = (self.n - 1) // 2  # the largest minority
        if kind == "isolate leader":
            fig = self.partition({leader})
        elif kind == "halves, leader in the minority":
            fig = self.partition({leader, *rng.sample(others, half - 1)})
        elif kind == "halves, leader in the majority":
            fig = self.partition(set(rng.sample(others, half)))
        elif kind == "isolate follower":
            fig = self.partition({rng.choice(others)})
        elif kind == "kill -9 leader":
            fig = self.kill(leader)
        elif kind == "kill -9 follower":
            fig = self.kill(rng.choice(others))
        elif kind == "SIGSTOP leader":
            fig = self.freeze(leader)
        else:
            raise ValueError(kind)
        fig["kind"] = kind
        fig["seed"] = self.seed
        self.figures.append(fig)
        self.report(fig)

    # ---- the end ----

    @staticmethod
    def report(figures: dict) -> None:
        print(json.dumps(figures))
        path = os.environ.get("ZOOPARK_PARTITION_REPORT")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(figures) + "\n")

    def finish(self) -> dict:
        """Stop the clients; check every invariant."""
        for w in self.workers:
            w.stop.set()
        for w in self.workers:
            w.join(OP_S * 4 + SESSION_S)
            assert not w.is_alive(), f"client {w.name} is stuck"
            assert w.crash is None, f"client {w.name} crashed: {w.crash!r}"
        self.settled()
        t0 = now()
        zxids = self.wait("every member at the same zxid",
                          lambda: (z := {i: self.zxid(i) for i in self.ids}) and len(set(z.values())) == 1 and z)
        converge = now() - t0
        trees = {}
        log = [entry for w in self.writers for entry in w.log]
        for i, p in self.members.items():
            kz = KazooClient(f"{p.host}:{p.port}", timeout=SESSION_S)
            try:
                kz.start(timeout=30)
                kz.sync("/")
                trees[i] = znode_tree(kz)
                if i == min(self.ids):
                    for key in KEYS:  # the last word of each key's history
                        t = now()
                        try:
                            data, st = kz.get(key)
                            result: object = ("ok", data, st.version)
                        except NoNodeError:
                            result = "nonode"
                        log.append((key, Op(-1 - KEYS.index(key), "root", "get", (), t, now(), result)))
            finally:
                close_clients([kz])
        failures = list(self.violations)
        first = trees[min(self.ids)]
        diverged = [i for i, t in trees.items() if t != first]
        if diverged:
            failures.append(f"members {diverged} hold another tree than member {min(self.ids)}")
        acked = [path for w in self.writers for path in w.acked]
        lost = [path for path in acked if path not in first]
        if lost:
            failures.append(f"{len(lost)} acknowledged creates lost: {lost[:20]}")
        determinate = [op for _, op in log if op.determinate]
        if len(determinate) <= 100:
            failures.append(f"only {len(determinate)} operations completed")
        bad = {k: v.detail for k, v in check_by_key(log).items() if not v.ok}
        if bad:
            dump = Path(f"/tmp/partitions-seed{self.seed}-{self.kind.__name__}-history.json")
            dump.write_text(json.dumps([(k, op.client, op.kind, repr(op.args), op.invoked,
                                         None if op.responded == math.inf else op.responded, repr(op.result))
                                        for k, op in log if k in bad]))
            failures.append(f"not linearizable: {sorted(bad)} (history in {dump}); the end of each:\n" +
                            "\n".join(d[-3000:] for d in bad.values()))
        summary = {"seed": self.seed, "kind": self.kind.__name__, "members": self.n, "faults": len(self.figures),
                   "operations": len(log), "determinate": len(determinate), "acknowledged creates": len(acked),
                   "zxid": hex(next(iter(zxids.values()))), "converge_after_clients_stop_s": converge,
                   "member_errors": self.logged_errors(), "failures": [f[:300] for f in failures]}
        self.report(summary)
        assert not failures, f"seed {self.seed}:\n" + "\n".join(failures)
        return summary


# ---- fixtures and tests --------------------------------------------------------------------------------


@pytest.fixture
def fabric():
    why = netns.missing()
    if why:
        unavailable(why, "root, iproute2 and iptables (make test-packages)")
    f = netns.Fabric()
    try:
        yield f
    finally:
        f.close()


@pytest.fixture
def ensemble(fabric):
    made: list[Ensemble] = []

    def make(n: int, read_only: bool, seed: int, kind: type[Member | ZooKeeperMember] = Member,
             writers: int = 4) -> Ensemble:
        e = Ensemble(fabric, n, read_only, seed, kind)
        made.append(e)
        e.start(writers)
        return e
    yield make
    for e in made:
        e.close()


def three_members(e: Ensemble) -> None:
    rng = random.Random(0)
    for kind in ("isolate leader", "kill -9 leader", "SIGSTOP leader"):
        e.fault(kind, rng)
    e.finish()
    iso = e.figures[0]
    assert iso["leader_in_minority"] and iso["new_leader"] not in iso["minority"]
    assert iso["ro_reads"] > 0, "read-only mode served no read on the minority"
    assert all(f["new_leader"] != f.get("victim") for f in e.figures)


def five_members(e: Ensemble) -> None:
    rng = random.Random(1)
    for kind in ("halves, leader in the minority", "halves, leader in the majority"):
        e.fault(kind, rng)
    e.finish()
    a, b = e.figures
    assert a["leader_in_minority"] and len(a["minority"]) == 2 and a["new_leader"] not in a["minority"]
    assert not b["leader_in_minority"] and len(b["minority"]) == 2


def test_three_members_leader_isolated_killed_and_frozen(ensemble) -> None:
    three_members(ensemble(3, True, 0))


def test_five_members_split_in_halves(ensemble) -> None:
    five_members(ensemble(5, False, 1))


@pytest.mark.skipif(not RUNS, reason="the long form (ZOOPARK_PARTITION_RUNS=n or ZOOPARK_SOAK=1)")
@needs("zookeeper")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("schedule", [three_members, five_members], ids=["three", "five"])
def test_zookeeper_under_the_same_schedules(ensemble, schedule) -> None:
    """The reference under the same faults and the same checks: what the figures are compared with, and the
    proof that the checks ask nothing ZooKeeper does not do."""
    schedule(ensemble(3, True, 0, ZooKeeperMember) if schedule is three_members else
             ensemble(5, False, 1, ZooKeeperMember))


@pytest.mark.parametrize("kind", [
    Member,
    pytest.param(ZooKeeperMember, marks=[needs("zookeeper"), pytest.mark.skipif(
        not RUNS, reason="the long form (ZOOPARK_PARTITION_RUNS=n or ZOOPARK_SOAK=1)")]),
], ids=["zoopark", "zookeeper"])
def test_a_client_cut_off_from_its_follower_loses_its_session(ensemble, kind) -> None:
    """A client cut off from the follower it is connected to (the follower in the majority, the cut between
    the two only) looks dead to the ensemble: the follower must stop vouching for its session, so that the
    leader expires it after its timeout and its ephemeral znodes go, as a registry's entry for an instance
    nobody can reach. Nothing closes the follower's end of the connection: the packets are dropped."""
    e = ensemble(3, False, 2, kind, writers=0)
    leader = e.settled()
    follower = e.members[min(e.ids - {leader})]
    node = e.fabric.add("lone")
    made: list[KazooClient] = []

    def connect() -> None:
        netns.enter(node.ns)
        kz = KazooClient(f"{follower.host}:{follower.port}", timeout=SESSION_S)
        made.append(kz)
        kz.start(timeout=30)
        kz.create("/e/lone", ephemeral=True)
    t = threading.Thread(target=connect)
    t.start()
    t.join(60)
    observer = KazooClient(f"{e.members[leader].host}:2181", timeout=SESSION_S)
    made.append(observer)
    try:
        observer.start(timeout=30)
        lone = made[0]
        assert lone.connected and observer.exists("/e/lone").ephemeralOwner == lone.client_id[0]
        t0 = now()
        e.fabric.cut({"lone"}, {f"m{i}" for i in e.ids})
        gone = e.wait("the cut-off client's session expires and its ephemeral znode goes",
                      lambda: observer.exists("/e/lone") is None and now(), timeout=REGISTRATION_S)
        e.report({"fault": "client cut off from its follower", "kind": "client cut off", "seed": e.seed,
                  "members": e.n, "server": kind.__name__, "minority_registrations_gone_s": gone - t0})
    finally:
        e.fabric.heal()
        close_clients(made)


FAULTS = ("isolate leader", "halves, leader in the minority", "halves, leader in the majority",
          "isolate follower", "kill -9 leader", "kill -9 follower", "SIGSTOP leader")


@pytest.mark.timeout(900)
@pytest.mark.skipif(not RUNS, reason="the long form (ZOOPARK_PARTITION_RUNS=n or ZOOPARK_SOAK=1)")
@pytest.mark.parametrize("run", range(RUNS or 1))
def test_random_schedule_of_partitions(ensemble, run: int) -> None:
    """ZOOPARK_PARTITION_SERVER=zookeeper runs the same schedules on Apache ZooKeeper 3.8."""
    kind = ZooKeeperMember if os.environ.get("ZOOPARK_PARTITION_SERVER") == "zookeeper" else Member
    rng = random.Random(1000 + run)
    e = ensemble(3 if run % 2 == 0 else 5, run % 4 < 2, 1000 + run, kind)
    for _ in range(6):
        e.fault(rng.choice(FAULTS), rng)
    e.finish()
