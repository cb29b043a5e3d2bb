"""zkCli 3.8's setquota, listquota and delquota on kazoo: the same requests in the same order (SetQuotaCommand,
ListQuotaCommand, DelQuotaCommand), the same lines on the same streams, the same exit status (0 where zkCli's
command returns after printing its complaint, 1 where it throws)."""

from __future__ import annotations

import re
from typing import TextIO

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError

from ..core.tree import quota as q
from ..core.tree.paths import InvalidPath, validate_path

USAGE = {
    "setquota": "setquota -n|-b|-N|-B val path",
    "listquota": "listquota path",
    "delquota": "delquota [-n|-b|-N|-B] path",
}
_OPTION_HELP = {"n": "num soft quota", "b": "bytes soft quota", "N": "num hard quota", "B": "bytes hard quota"}
_KEYS = {"n": q.COUNT, "b": q.BYTES, "N": q.COUNT_HARD, "B": q.BYTES_HARD}
_INT_MAX = (1 << 31) - 1
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")  # what Integer.parseInt / Long.parseLong take (ASCII digits here)


class CliError(Exception):
    """A line zkCli prints on stderr for an exception its command throws (exit status 1)."""


def _cli(name: str, message: str) -> CliError:
    return CliError(f"org.apache.commons.cli.{name}: {message}")


def parse(args: list[str], group: str, valued: bool, required: bool) -> tuple[str | None, str | None, list[str]]:
    """commons-cli's DefaultParser on an OptionGroup of one-letter options: (option, value, other words)."""
    chosen: str | None = None
    value: str | None = None
    rest: list[str] = []
    it = iter(args)
    for a in it:
        if a.startswith("-") and len(a) > 1 and not _negative_number(a):
            opt = a[1:]
            if valued and len(opt) > 1 and opt[0] in group:  # -n5: the value attached
                opt, attached = opt[0], opt[1:]
                if chosen is not None and chosen != opt:
                    raise _cli("AlreadySelectedException", f"The option '{opt}' was specified but an option "
                                                            f"from this group has already been selected: '{chosen}'")
                if chosen is None:
                    value = attached
                chosen = opt
                continue
            if opt not in group:
                raise _cli("UnrecognizedOptionException", f"Unrecognized option: {a}")
            if chosen is not None and chosen != opt:
                raise _cli("AlreadySelectedException", f"The option '{opt}' was specified but an option from "
                                                        f"this group has already been selected: '{chosen}'")
            if valued:
                v = next(it, None)
                if v is None:
                    raise _cli("MissingArgumentException", f"Missing argument for option: {opt}")
                if chosen is None:
                    value = v
            chosen = opt
        else:
            rest.append(a)
    if required and chosen is None:
        names = ", ".join(f"-{o} {_OPTION_HELP[o]}" for o in group)
        raise _cli("MissingOptionException", f"Missing required option: [{names}]")
    return chosen, value, rest


def _negative_number(a: str) -> bool:
    try:
        float(a)
    except ValueError:
        return False
    return True


def _java_split(path: str) -> list[str]:
    parts = path.split("/")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _checked(path: str) -> str:
    """The client's PathUtils.validatePath, whose complaint zkCli prints (MalformedPathException)."""
    try:
        validate_path(path)
    except InvalidPath as e:
        reason = str(e)
        if reason.startswith("Path "):
            raise CliError(reason) from None
        raise CliError(f'Invalid path string "{path}" caused by {reason}') from None
    return path


def _track(data: bytes | None) -> str:
    return q.format_stats(q.parse_stats(data)).decode()


class QuotaCommands:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err

    # ---- setquota ------------------------------------------------------------------------------

    def setquota(self, zk: KazooClient, args: list[str]) -> None:
        opt, value, rest = parse(args, "nbNB", valued=True, required=True)
        if len(rest) < 1:
            raise CliError(USAGE["setquota"])
        path = rest[0]
        if path.startswith(q.QUOTA):
            self.err.write(f"cannot set a quota under the path: {q.QUOTA}\n")
            return
        assert opt is not None and value is not None
        limits = {q.COUNT: -1, q.BYTES: -1, q.COUNT_HARD: -1, q.BYTES_HARD: -1}
        number = int(value) if _JAVA_LONG.fullmatch(value) else None
        if number is None or (opt in "nN" and not -_INT_MAX - 1 <= number <= _INT_MAX) \
                or not -(1 << 63) <= number < 1 << 63:
            self.err.write("NumberFormatException happens when parsing the option value\n")
            return
        if opt in "nN" and number <= 0:
            self.err.write("the num quota must be greater than zero\n")
            return
        if opt in "bB" and number < 0:
            self.err.write("the bytes quota must be greater than or equal to zero\n")
            return
        limits[_KEYS[opt]] = number
        self._create_quota(zk, path, limits)

    def _create_quota(self, zk: KazooClient, path: str, quota: dict[str, int]) -> None:
        if zk.exists(_checked(path)) is None:
            raise CliError(f"{path} does not exist.")
        self._check_children(zk, path)
        self._check_parents(zk, path)
        if zk.exists(q.QUOTA) is None:
            for p in (q.ZOOKEEPER, q.QUOTA):
                try:
                    zk.create(p, None)
                except NodeExistsError:
                    pass
        quota_path = q.QUOTA
        for part in _java_split(path)[1:]:
            quota_path = f"{quota_path}/{part}"
            if zk.exists(quota_path) is None:
                try:
                    zk.create(quota_path, None)
                except NodeExistsError:
                    pass
        stat_path, limit_path = f"{quota_path}/{q.STAT_NODE}", f"{quota_path}/{q.LIMIT_NODE}"
        if zk.exists(limit_path) is None:
            zk.create(limit_path, q.format_stats(quota))
            zk.create(stat_path, q.format_stats({q.COUNT: 0, q.BYTES: 0}))
            limits = q.parse_stats(zk.get(limit_path)[0])
            self._warn_below_usage(limits, q.parse_stats(zk.get(stat_path)[0]))
            return
        limits = q.parse_stats(zk.get(limit_path)[0])
        for key, v in quota.items():
            if v > -1:
                limits[key] = v
        self._warn_below_usage(limits, q.parse_stats(zk.get(stat_path)[0]))
        zk.set(limit_path, q.format_stats(limits))

    def _warn_below_usage(self, limits: dict[str, int], stats: dict[str, int]) -> None:
        """SetQuotaCommand.checkQuota: a limit below what the subtree holds already (on stdout)."""
        count, nbytes = stats.get(q.COUNT, -1), stats.get(q.BYTES, -1)
        for soft, hard, used, what in ((q.COUNT, q.COUNT_HARD, count, "count"), (q.BYTES, q.BYTES_HARD, nbytes, "bytes")):
            s, h = limits.get(soft, -1), limits.get(hard, -1)
            if (s > -1 and s < used) or (h > -1 and h < used):
                self.out.write(f"[Warning]: the {what} quota you create is less than the existing {what}:{used}\n")

    def _check_children(self, zk: KazooClient, path: str) -> None:
        """No quota below `path`: its quota node's subtree walked as ZKUtil.visitSubTreeDFS walks it (each
        node's sorted children checked, then each child's subtree)."""
        own = q.QUOTA + path
        _checked(own)
        if zk.exists(own) is None:
            return

        def check(quota_path: str) -> None:
            try:
                children = zk.get_children(quota_path)
            except NoNodeError:
                return
            if quota_path != own and q.LIMIT_NODE in children:
                raise CliError(f"{path} has a child {q.trim_quota_path(quota_path)} which has a quota")

        def visit(quota_path: str) -> None:
            try:
                children = sorted(zk.get_children(quota_path))
            except NoNodeError:
                return
            for c in children:
                check(f"{quota_path}/{c}")
            for c in children:
                visit(f"{quota_path}/{c}")

        check(own)
        visit(own)

    def _check_parents(self, zk: KazooClient, path: str) -> None:
        splits = _java_split(path)
        quota_path = q.QUOTA
        for part in splits[1:-1]:
            quota_path = f"{quota_path}/{part}"
            try:
                children = zk.get_children(quota_path)
            except NoNodeError:
                return
            if not children:
                return
            if quota_path != q.QUOTA + path and q.LIMIT_NODE in children:
                raise CliError(f"{path} has a parent {q.trim_quota_path(quota_path)} which has a quota")

    # ---- listquota -----------------------------------------------------------------------------

    def listquota(self, zk: KazooClient, args: list[str]) -> None:
        _, _, rest = parse(args, "", valued=False, required=False)
        if len(rest) < 1:
            raise CliError(USAGE["listquota"])
        path = rest[0]
        self.err.write(f"absolute path is {q.limit_path(path)}\n")
        try:
            limits = _track(zk.get(_checked(q.limit_path(path)))[0])
            self.out.write(f"Output quota for {path} {limits}\n")
            stats = _track(zk.get(q.stat_path(path))[0])
            self.out.write(f"Output stat for {path} {stats}\n")
        except NoNodeError:
            self.err.write(f"quota for {path} does not exist.\n")

    # ---- delquota ------------------------------------------------------------------------------

    def delquota(self, zk: KazooClient, args: list[str]) -> None:
        opt, _, rest = parse(args, "nbNB", valued=False, required=False)
        if len(rest) < 1:
            raise CliError(USAGE["delquota"])
        path = rest[0]
        parent, limit_path = q.QUOTA + path, q.limit_path(path)
        try:
            if zk.exists(_checked(limit_path)) is None:
                self.out.write(f"Quota does not exist for {path}\n")
                return
            limits = q.parse_stats(zk.get(limit_path)[0])
            if opt is None:
                for child in zk.get_children(parent):
                    zk.delete(f"{parent}/{child}")
                self._trim(zk, parent)
                return
            limits[_KEYS[opt]] = -1
            zk.set(limit_path, q.format_stats(limits))
        except NoNodeError:
            self.err.write(f"quota for {path} does not exist.\n")

    @staticmethod
    def _trim(zk: KazooClient, path: str) -> None:
        """trimProcQuotas: delete the emptied quota nodes upwards, up to /zookeeper/quota."""
        for _ in range(path.count("/") + 1):
            if path == q.QUOTA or zk.get_children(path):
                return
            zk.delete(path)
            path = path[:path.rfind("/")]
