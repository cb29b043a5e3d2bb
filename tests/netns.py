"""Real network partitions for tests: one Linux network namespace per member (and per client), all on a
bridge of their own, cut with iptables DROP rules.

    fabric = Fabric()                      # a bridge and a private /24 nobody else on this machine uses
    a = fabric.add("m1")                   # a namespace with a veth on the bridge and one address
    fabric.cut({"m1", "c1"}, {"m2", "m3"}) # nothing passes between the two groups, either way
    fabric.heal()                          # every rule gone
    fabric.close()                         # every namespace, veth and the bridge gone

Every rule lives inside a namespace this module made (INPUT and OUTPUT of the namespace on each side), so the
machine's own firewall is never touched and deleting the namespaces deletes the rules. The root namespace
(the test itself) is on the bridge too and is never cut: it watches every member (srvr, trees) whatever the
partition. Names carry the test process's pid (and a letter per fabric), so two runs cannot collide.

A thread joins a client namespace with `enter(ns)` (setns is per thread, and threads it starts inherit it):
a kazoo client started there connects from that namespace's address, and is cut with it.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000


def missing() -> str | None:
    """Why namespaces cannot be made here, or None when they can (tried for real: a namespace made and gone)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool, package in (("ip", "iproute2"), ("iptables", "iptables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (Debian package {package})"
    probe = f"zp{os.getpid()}probe"
    try:
        _run("ip", "netns", "add", probe)
        _run("ip", "netns", "exec", probe, "iptables", "-S")
    except RuntimeError as e:
        return f"cannot make a network namespace with iptables: {e}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def _run(*argv: str) -> str:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.stderr.strip() or p.returncode}")
    return p.stdout


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = _run("ip", "-o", "-4", "addr", "show")
    return [ipaddress.ip_interface(w[3]).network for w in (line.split() for line in out.splitlines())]


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.0.0.0/8 that overlaps no address of the root namespace (another run's bridge included),
    starting from one derived from the pid."""
    used = _used_networks()
    pid = os.getpid()
    for k in range(4096):
        n = (pid + k * 7919) % (64 * 256)
        net = ipaddress.ip_network(f"10.{192 + n // 256}.{n % 256}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free private /24 for the test bridge")


@dataclass(frozen=True)
class Node:
    name: str  # the test's name for it: m1, c2, ...
    ns: str    # the namespace's name
    addr: str  # its address on the bridge

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]


def sweep() -> list[str]:
    """Remove what runs that died before their clean-up (SIGKILL, a power cut) left behind: namespaces and
    bridges named zp<pid>... whose pid is no longer a live process. Never another live run's."""
    gone = []
    names = [line.split()[0] for line in _run("ip", "netns", "list").splitlines() if line.strip()]
    links = [line.split(": ")[1].split("@")[0] for line in _run("ip", "-o", "link", "show").splitlines()]
    for name in names + links:
        m = re.fullmatch(r"zp(\d+)[a-z](-\w+|br|v\d+)", name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            cmd = ["ip", "netns", "del", name] if name in names else ["ip", "link", "del", name]
            subprocess.run(cmd, capture_output=True, check=False)
            gone.append(name)
    return gone


class Fabric:
    made = 0  # fabrics made by this process: a letter each, since a deleted namespace's veth lingers a moment

    def __init__(self) -> None:
        sweep()
        self.prefix = f"zp{os.getpid()}{chr(ord('a') + Fabric.made % 26)}"  # "zp4194304a" + "br": 12 bytes
        Fabric.made += 1
        self.bridge = f"{self.prefix}br"
        self.nodes: dict[str, Node] = {}
        self.cuts: set[frozenset[str]] = set()
        self.net = _free_subnet()
        hosts = self.net.hosts()
        self.root_addr = str(next(hosts))
        self._hosts = hosts
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        try:
            _run("ip", "addr", "add", f"{self.root_addr}/{self.net.prefixlen}", "dev", self.bridge)
            _run("ip", "link", "set", self.bridge, "up")
        except RuntimeError:
            self.close()
            raise

    def add(self, name: str) -> Node:
        assert name not in self.nodes and len(self.nodes) < 200, name
        node = Node(name, f"{self.prefix}-{name}", str(next(self._hosts)))
        veth = f"{self.prefix}v{len(self.nodes)}"  # the bridge's end (interface names have 15 bytes)
        self.nodes[name] = node  # first, so close() removes a half-made one
        _run("ip", "netns", "add", node.ns)
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", node.ns)
        _run("ip", "link", "set", veth, "master", self.bridge, "up")
        _run("ip", "-n", node.ns, "addr", "add", f"{node.addr}/{self.net.prefixlen}", "dev", "eth0")
        _run("ip", "-n", node.ns, "link", "set", "eth0", "up")
        _run("ip", "-n", node.ns, "link", "set", "lo", "up")
        return node

    def cut(self, *groups: set[str]) -> None:
        """Nothing passes between two nodes of different groups (nodes named in no group keep their links).
        Dropped, not refused: a peer's packets vanish as on a cut cable, and TCP finds out only by timing out.
        Cuts add up until heal()."""
        for gi, a_group in enumerate(groups):
            for b_group in groups[gi + 1:]:
                self.cuts.update(frozenset((a, b)) for a in a_group for b in b_group)
        self._apply()

    def heal(self) -> None:
        self.cuts.clear()
        self._apply()

    def _apply(self) -> None:
        """Each namespace's whole filter table at once (iptables-restore swaps it atomically), every namespace
        in parallel: the cut falls within a few milliseconds, not one rule after another."""
        procs = []
        for name, node in self.nodes.items():
            lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
            for pair in sorted(self.cuts, key=sorted):
                if name in pair:
                    (other,) = pair - {name}
                    addr = self.nodes[other].addr
                    lines += [f"-A INPUT -s {addr} -j DROP", f"-A OUTPUT -d {addr} -j DROP"]
            lines.append("COMMIT\n")
            p = subprocess.Popen([*node.exec_prefix(), "iptables-restore"], stdin=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            procs.append((p, "\n".join(lines)))
        errors = []
        for p, table in procs:
            _, err = p.communicate(table, timeout=30)
            if p.returncode != 0:
                errors.append(err.strip())
        if errors:
            raise RuntimeError(f"iptables-restore: {errors}")

    def rules(self) -> dict[str, str]:
        """Each namespace's iptables rules (iptables -S): what the cut really is, for a failure's message."""
        return {n: _run("ip", "netns", "exec", node.ns, "iptables", "-S") for n, node in self.nodes.items()}

    def close(self) -> None:
        """Remove every namespace and the bridge (veths go with their namespace). Processes still inside a
        namespace keep it alive, nameless: stop them (by pid) first."""
        for k, node in enumerate(self.nodes.values()):
            subprocess.run(["ip", "netns", "del", node.ns], capture_output=True, check=False)
            # The bridge's end too: a namespace outlives its name while orphaned TCP sockets in it still
            # retransmit into the void, and keeps its veth up until they give up (minutes).
            subprocess.run(["ip", "link", "del", f"{self.prefix}v{k}"], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        self.nodes.clear()
        self.cuts.clear()


_libc = ctypes.CDLL(None, use_errno=True)


def enter(ns: str) -> None:
    """Move the calling thread (and the threads it starts from now on) into namespace `ns`."""
    path = f"/run/netns/{ns}"
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)
    # Checked, not assumed: a client left in the root namespace would be on both sides of every cut.
    assert os.stat("/proc/thread-self/ns/net").st_ino == os.stat(path).st_ino, ns
