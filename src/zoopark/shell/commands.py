"""`zoopark shell`'s commands, as zkCli.sh 3.8 has them (names, options, output and error lines), on kazoo.

`Shell.run_line(line)` runs one command line and returns its exit status (0, or 1 when the command failed,
with the reason on the error stream as zkCli prints it)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from typing import TextIO

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    KazooException,
    NoAuthError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    QuotaExceededError,
)
from kazoo.security import ACL, OPEN_ACL_UNSAFE, Id

from ..recipes.records import (
    ADD_WATCH_MODES,
    WATCHER_TYPES,
    CreateContainer,
    CreateTTL,
    GetAllChildrenNumber,
    GetEphemerals,
    RemoveWatches,
    WhoAmI,
    call,
)
from ..recipes.watches import PersistentWatches
from .quota import USAGE as QUOTA_USAGE
from .quota import CliError, QuotaCommands
from .reconfig import USAGE as RECONFIG_USAGE
from .reconfig import ReconfigCommands, Usage

PERMS = {"r": 1, "w": 2, "c": 4, "d": 8, "a": 16}
USAGE = {
    "connect": "connect host:port",
    "close": "close",
    "ls": "ls [-s] [-w] [-R] path",
    "get": "get [-s] [-w] path",
    "set": "set [-s] [-v version] path data",
    "create": "create [-s] [-e] [-c] [-t ttl] path [data] [acl]",
    "delete": "delete [-v version] path",
    "deleteall": "deleteall path [-b batch size]",
    "stat": "stat [-w] path",
    "getAcl": "getAcl [-s] path",
    "setAcl": "setAcl [-s] [-v version] [-R] path acl",
    "addauth": "addauth scheme auth",
    "sync": "sync path",
    "whoami": "whoami",
    "addWatch": "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default "
                "is PERSISTENT_RECURSIVE",
    "removewatches": "removewatches path [-c|-d|-a] [-l]",
    "getEphemerals": "getEphemerals path",
    "getAllChildrenNumber": "getAllChildrenNumber path",
    "history": "history",
    "quit": "quit",
    **QUOTA_USAGE,
    **RECONFIG_USAGE,
}


class UsageError(Exception):
    pass


def java_date(ms: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(ms / 1000))


def format_stat(st) -> str:
    return (f"cZxid = 0x{st.czxid:x}\nctime = {java_date(st.ctime)}\nmZxid = 0x{st.mzxid:x}\n"
            f"mtime = {java_date(st.mtime)}\npZxid = 0x{st.pzxid:x}\ncversion = {st.cversion}\n"
            f"dataVersion = {st.version}\naclVersion = {st.aversion}\nephemeralOwner = 0x{st.ephemeralOwner:x}\n"
            f"dataLength = {st.dataLength}\nnumChildren = {st.numChildren}\n")


def parse_acl(text: str) -> list[ACL]:
    """zkCli's ACL syntax: scheme:id:perms[,scheme:id:perms...] (the id may hold colons: digest, ip)."""
    out = []
    for part in text.split(","):
        scheme, _, rest = part.partition(":")
        ident, _, perms = rest.rpartition(":")
        if not scheme or not perms or any(p not in PERMS for p in perms):
            raise UsageError(f"{part} does not have the form scheme:id:perm")
        out.append(ACL(sum(PERMS[p] for p in set(perms)), Id(scheme, ident)))
    return out


def format_perms(mask: int) -> str:
    return "".join(p for p in "cdrwa" if mask & PERMS[p])


def options(args: list[str], flags: str, valued: str = "") -> tuple[dict[str, str | bool], list[str]]:
    """getopt-like: -x flags anywhere, -v VALUE options; the rest in order."""
    opts: dict[str, str | bool] = {}
    rest: list[str] = []
    it = iter(args)
    for a in it:
        if len(a) == 2 and a[0] == "-" and a[1] in flags:
            opts[a[1]] = True
        elif len(a) == 2 and a[0] == "-" and a[1] in valued:
            try:
                opts[a[1]] = next(it)
            except StopIteration:
                raise UsageError(f"option -{a[1]} needs a value") from None
        else:
            rest.append(a)
    return opts, rest


def walk(zk: KazooClient, path: str, limit: int = 10_000_000):
    """`path` and every znode under it, breadth first, children in name order (as zkCli's ls -R)."""
    queue = [path]
    for _ in range(limit):
        if not queue:
            return
        p = queue.pop(0)
        yield p
        queue.extend(sorted(f"{p.rstrip('/')}/{c}" for c in zk.get_children(p)))


class Shell:
    def __init__(self, out: TextIO, err: TextIO, timeout_s: float = 30.0, read_only: bool = False) -> None:
        self.out, self.err = out, err
        self.timeout_s = timeout_s
        self.read_only = read_only
        self.client: KazooClient | None = None
        self.server = ""
        self.history: list[str] = []
        self.watches: PersistentWatches | None = None
        self.done = False
        self.commands: dict[str, Callable[[list[str]], None]] = {
            "connect": self.connect, "close": self.close, "ls": self.ls, "get": self.get, "set": self.set,
            "create": self.create, "delete": self.delete, "deleteall": self.deleteall, "rmr": self.deleteall,
            "stat": self.stat, "getAcl": self.get_acl, "setAcl": self.set_acl, "addauth": self.addauth,
            "sync": self.sync, "whoami": self.whoami, "addWatch": self.add_watch,
            "removewatches": self.remove_watches, "getEphemerals": self.get_ephemerals,
            "getAllChildrenNumber": self.all_children, "history": self.show_history, "quit": self.quit,
            "help": self.help,
            "setquota": self.setquota, "listquota": self.listquota, "delquota": self.delquota,
            "config": self.config, "reconfig": self.reconfig,
        }
        self.quotas = QuotaCommands(out, err)
        self.reconfigs = ReconfigCommands(out, err)

    # ---- running -------------------------------------------------------------------------------

    def run_line(self, line: str) -> int:
        line = line.strip()
        if not line or line.startswith("#"):
            return 0
        self.history.append(line)
        try:
            words = shlex.split(line)
        except ValueError as e:
            self.err.write(f"{e}\n")
            return 1
        name, args = words[0], words[1:]
        fn = self.commands.get(name)
        if fn is None:
            self.help([])
            return 1
        try:
            fn(args)
            return 0
        except CliError as e:  # zkCli prints the message of what the command threw, and fails
            self.err.write(f"{e}\n")
        except UsageError as e:
            self.err.write(f"{e}\n" if str(e) else "")
            self.err.write(f"{USAGE.get(name, name)}\n")
        except NoNodeError:
            self.err.write(f"Node does not exist: {self._path_of(args)}\n")
        except NodeExistsError:
            self.err.write(f"Node already exists: {self._path_of(args)}\n")
        except BadVersionError:
            self.err.write(f"version No is not valid : {self._path_of(args)}\n")
        except NotEmptyError:
            self.err.write(f"Node not empty: {self._path_of(args)}\n")
        except NoAuthError:
            self.err.write(f"Insufficient permission : {self._path_of(args)}\n")
        except QuotaExceededError:
            self.err.write(f"Quota has exceeded : {self._path_of(args)}\n")
        except BadArgumentsError as e:
            self.err.write(f"KeeperErrorCode = BadArguments {e}\n")
        except KazooException as e:
            self.err.write(f"KeeperErrorCode = {type(e).__name__.removesuffix('Error')} for "
                           f"{self._path_of(args)}\n")
        except Exception as e:  # noqa: BLE001 - the shell goes on; say what went wrong
            self.err.write(f"{type(e).__name__}: {e}\n")
        return 1

    @staticmethod
    def _path_of(args: list[str]) -> str:
        return next((a for a in args if a.startswith("/")), "")

    def _zk(self) -> KazooClient:
        if self.client is None or not self.client.connected:
            raise UsageError("Not connected")
        return self.client

    @staticmethod
    def _one_path(rest: list[str]) -> str:
        if len(rest) != 1:
            raise UsageError("")
        return rest[0]

    # ---- session -------------------------------------------------------------------------------

    def connect(self, args: list[str]) -> None:
        if len(args) != 1:
            raise UsageError("")
        self.close([])
        self.server = args[0]
        self.client = KazooClient(hosts=args[0], timeout=self.timeout_s, read_only=self.read_only)
        self.watches = PersistentWatches(self.client)  # kazoo has no API for addWatch
        self.client.start(timeout=self.timeout_s)

    def close(self, args: list[str]) -> None:
        if self.client is not None:
            self.client.stop()
            self.client.close()
            self.client = None

    def quit(self, args: list[str]) -> None:
        self.close([])
        self.done = True

    def show_history(self, args: list[str]) -> None:
        for i, line in enumerate(self.history[-11:], start=max(0, len(self.history) - 11)):
            self.out.write(f"{i} - {line}\n")

    def help(self, args: list[str]) -> None:
        self.err.write("ZooKeeper -server host:port -client-configuration properties-file cmd args\n")
        for name in sorted(USAGE, key=str.lower):
            self.err.write(f"\t{USAGE[name]}\n")

    def _watcher(self, event) -> None:
        self.out.write(f"\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{_event_type(event.type)} "
                       f"path:{event.path}\n")
        self.out.flush()

    # ---- reads ---------------------------------------------------------------------------------

    def ls(self, args: list[str]) -> None:
        opts, rest = options(args, "swR")
        path = self._one_path(rest)
        zk = self._zk()
        if opts.get("R"):
            for p in walk(zk, path):
                self.out.write(f"{p}\n")
            return
        watch = self._watcher if opts.get("w") else None
        children, st = zk.get_children(path, watch=watch, include_data=True)
        self.out.write(f"[{', '.join(sorted(children))}]\n")
        if opts.get("s"):
            self.out.write(format_stat(st))

    def get(self, args: list[str]) -> None:
        opts, rest = options(args, "sw")
        data, st = self._zk().get(self._one_path(rest), watch=self._watcher if opts.get("w") else None)
        self.out.write(("null" if data is None else data.decode("utf-8", "replace")) + "\n")
        if opts.get("s"):
            self.out.write(format_stat(st))

    def stat(self, args: list[str]) -> None:
        opts, rest = options(args, "w")
        path = self._one_path(rest)
        st = self._zk().exists(path, watch=self._watcher if opts.get("w") else None)
        if st is None:
            raise NoNodeError()
        self.out.write(format_stat(st))

    def get_acl(self, args: list[str]) -> None:
        opts, rest = options(args, "s")
        acls, st = self._zk().get_acls(self._one_path(rest))
        for a in acls:
            self.out.write(f"'{a.id.scheme},'{a.id.id}\n: {format_perms(a.perms)}\n")
        if opts.get("s"):
            self.out.write(format_stat(st))

    def whoami(self, args: list[str]) -> None:
        self.out.write("Auth scheme: User\n")
        for scheme, user in call(self._zk(), WhoAmI(), self.timeout_s):
            self.out.write(f"{scheme}: {user}\n")

    def get_ephemerals(self, args: list[str]) -> None:
        path = args[0] if args else "/"
        self.out.write(f"[{', '.join(call(self._zk(), GetEphemerals(path), self.timeout_s))}]\n")

    def all_children(self, args: list[str]) -> None:
        self.out.write(f"{call(self._zk(), GetAllChildrenNumber(self._one_path(args)), self.timeout_s)}\n")

    # ---- writes --------------------------------------------------------------------------------

    def create(self, args: list[str]) -> None:
        opts, rest = options(args, "sec", "t")
        if not 1 <= len(rest) <= 3:
            raise UsageError("")
        path, data = rest[0], (rest[1].encode() if len(rest) > 1 else None)
        acl = parse_acl(rest[2]) if len(rest) > 2 else None
        zk = self._zk()
        if opts.get("c"):
            if opts.get("e") or opts.get("s"):
                raise UsageError("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
            created, _ = call(zk, CreateContainer(path, data, acl or OPEN_ACL_UNSAFE, 4), self.timeout_s)
        elif opts.get("t"):
            if opts.get("e"):
                raise UsageError("TTLs cannot be used with Ephemeral znodes")
            flags = 6 if opts.get("s") else 5  # PERSISTENT_(SEQUENTIAL_)WITH_TTL
            created, _ = call(zk, CreateTTL(path, data, acl or OPEN_ACL_UNSAFE, flags, int(str(opts["t"]))),
                              self.timeout_s)
        else:
            created = zk.create(path, data, acl=acl, ephemeral=bool(opts.get("e")),
                                sequence=bool(opts.get("s")))
        self.err.write(f"Created {created}\n")  # zkCli says it on stderr

    def set(self, args: list[str]) -> None:
        opts, rest = options(args, "s", "v")
        if len(rest) != 2:
            raise UsageError("")
        st = self._zk().set(rest[0], rest[1].encode(), version=int(str(opts.get("v", -1))))
        if opts.get("s"):
            self.out.write(format_stat(st))

    def delete(self, args: list[str]) -> None:
        opts, rest = options(args, "", "v")
        self._zk().delete(self._one_path(rest), version=int(str(opts.get("v", -1))))

    def deleteall(self, args: list[str]) -> None:
        _, rest = options(args, "", "b")
        self._zk().delete(self._one_path(rest), recursive=True)

    def set_acl(self, args: list[str]) -> None:
        opts, rest = options(args, "sR", "v")
        if len(rest) != 2:
            raise UsageError("")
        path, acl = rest[0], parse_acl(rest[1])
        zk = self._zk()
        version = int(str(opts.get("v", -1)))
        if opts.get("R"):
            for p in walk(zk, path):
                zk.set_acls(p, acl)
            return
        st = zk.set_acls(path, acl, version=version)
        if opts.get("s"):
            self.out.write(format_stat(st))

    def addauth(self, args: list[str]) -> None:
        if len(args) != 2:
            raise UsageError("")
        self._zk().add_auth(args[0], args[1])

    def sync(self, args: list[str]) -> None:
        self._zk().sync(self._one_path(args))
        self.out.write("Sync is OK\n")

    def add_watch(self, args: list[str]) -> None:
        opts, rest = options(args, "", "m")
        mode = str(opts.get("m", "PERSISTENT_RECURSIVE")).upper()
        if mode not in ADD_WATCH_MODES:
            raise UsageError(f"Unsupported mode: {mode}")
        self._zk()  # connected, or a usage error
        assert self.watches is not None
        self.watches.add(self._one_path(rest), self._watcher, recursive=mode == "PERSISTENT_RECURSIVE",
                         timeout=self.timeout_s)

    def setquota(self, args: list[str]) -> None:
        self.quotas.setquota(self._zk(), args)

    def listquota(self, args: list[str]) -> None:
        self.quotas.listquota(self._zk(), args)

    def delquota(self, args: list[str]) -> None:
        self.quotas.delquota(self._zk(), args)

    def config(self, args: list[str]) -> None:
        self.reconfigs.config(self._zk(), args, self._watcher)

    def reconfig(self, args: list[str]) -> None:
        try:
            self.reconfigs.reconfig(self._zk(), args)
        except Usage:
            raise UsageError("") from None

    def remove_watches(self, args: list[str]) -> None:
        opts, rest = options(args, "cdal")
        kind = next((k for k in "cda" if opts.get(k)), "a")
        path = self._one_path(rest)
        call(self._zk(), RemoveWatches(path, WATCHER_TYPES[kind]), self.timeout_s)
        if kind in "da" and self.watches is not None:
            self.watches.forget(path)


def _event_type(kind: str) -> str:
    return {"CREATED": "NodeCreated", "DELETED": "NodeDeleted", "CHANGED": "NodeDataChanged",
            "CHILD": "NodeChildrenChanged"}.get(str(kind), str(kind))
