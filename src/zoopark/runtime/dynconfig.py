"""The configuration files a member writes as ZooKeeper 3.8 writes them when reconfiguration is enabled.

- At start-up, with the ensemble's `server.N` lines in zoo.cfg itself (no dynamicConfigFile): a copy of the
  file as `zoo.cfg.bak` (QuorumPeerConfig.backupOldConfig), every start until zoo.cfg has been rewritten.
- When a member sees a proposed configuration: `zoo.cfg.dynamic.next`, its server lines and `version=`
  (QuorumPeer.setLastSeenQuorumVerifier); read back at start-up when zoo.cfg names a dynamicConfigFile.
- When a member activates a configuration: `zoo.cfg.dynamic.<version in hex>` with its server lines, zoo.cfg
  rewritten without its server / group / weight / peerType / dynamicConfigFile lines and with
  `dynamicConfigFile=<that file's canonical path>` last (QuorumPeerConfig.writeDynamicConfig and
  editStaticConfig), and `.next` removed unless a newer proposal is pending.

Byte for byte as ZooKeeper: a dynamic file is its `key=value` lines sorted as strings, joined by newlines, with
no final one; the rewritten zoo.cfg lists the other keys in java.util.Properties' iteration order (comments and
blank lines are gone), each `key=value` trimmed, read as ISO 8859-1 and written as UTF-8 (so a non-ASCII byte
comes back doubled, as ZooKeeper does it). Each file is written as AtomicFileWritingIdiom writes it:
`<name>.tmp`, fsync, rename over the target (and here the directory fsynced too, so the rename is durable).
The names are the config file's path as given, plus the suffixes, as ZooKeeper builds them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import javaprops

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger("zoopark.dynconfig")

NEXT_SUFFIX = ".dynamic.next"
_STATIC_DROPPED = ("server.", "group", "weight", "dynamicConfigFile", "peerType")


def java_trim(s: str) -> str:
    """String.trim: strips every character up to U+0020 from both ends."""
    return s.strip("".join(map(chr, range(33))))


# ---- the texts (pure) ------------------------------------------------------------------------------


def dynamic_file_text(config_text: str, keep_version: bool) -> str:
    """writeDynamicConfig: the configuration's `key=value` lines (`version` only with keep_version, as in .next),
    sorted, joined by newlines."""
    lines = []
    for key, value in javaprops.entries(config_text):
        key = java_trim(key)
        if not keep_version and key.startswith("version"):
            continue
        lines.append(f"{key}={java_trim(value)}")
    return "\n".join(sorted(lines))


def static_file_text(static_text: str, dynamic_path: str, erase_client_port: bool) -> str:
    """editStaticConfig: zoo.cfg's other keys in Properties order, then the dynamic file's path. With
    erase_client_port (this member's server line now gives its client address) every key starting with
    `clientPort` goes too."""
    out = []
    for key, value in javaprops.entries(static_text):
        key = java_trim(key)
        if key.startswith(_STATIC_DROPPED) or (erase_client_port and key.startswith("clientPort")):
            continue
        out.append(f"{key}={java_trim(value)}\n")
    out.append(f"dynamicConfigFile={dynamic_path}\n")
    return "".join(out)


def config_version(config_text: str) -> int:
    """The `version=<hex>` of a configuration text (QuorumMaj: 0 when absent)."""
    version = 0
    for key, value in javaprops.load(config_text):
        if key == "version":
            version = int(value, 16)
    return version


def gives_client_address(config_text: str, my_id: int | None) -> bool:
    """QuorumPeer.needEraseClientInfoFromStaticConfig: this member's server line has a `;client` part (Java's
    split drops trailing empty parts, so `...;` has none)."""
    for key, value in javaprops.load(config_text):
        if key == f"server.{my_id}":
            parts = value.split(";")
            while parts and not parts[-1]:
                parts.pop()
            return len(parts) == 2
    return False


def dynamic_file_name(config_path: str, version: int) -> str:
    return f"{config_path}.dynamic.{version:x}"


# ---- the files -------------------------------------------------------------------------------------


def atomic_write(path: str | Path, data: bytes) -> None:
    """AtomicFileWritingIdiom: write `<path>.tmp`, fsync it, rename it over `path`; fsync the directory so the
    rename survives a crash. On failure the target is untouched and the temporary file removed."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_backup(cfg: Config) -> None:
    """At start-up: zoo.cfg copied to zoo.cfg.bak when it holds the ensemble itself, the member is part of an
    ensemble (not standalone) and reconfigEnabled is on (ZooKeeper backs up nothing otherwise)."""
    if cfg.config_path is None or cfg.dynamic_config_file is not None or cfg.is_standalone \
            or not cfg.reconfig_enabled:
        return
    atomic_write(cfg.config_path + ".bak", Path(cfg.config_path).read_bytes())


def write_next(cfg: Config, text: str) -> None:
    """A proposed configuration (not yet committed): zoo.cfg.dynamic.next, with its version. ZooKeeper logs a
    failure to write it and carries on; so do we."""
    if cfg.config_path is None or not cfg.reconfig_enabled:
        return
    try:
        atomic_write(cfg.config_path + NEXT_SUFFIX, dynamic_file_text(text, keep_version=True).encode())
    except OSError as e:
        log.error("cannot write the next dynamic config file %s%s: %s", cfg.config_path, NEXT_SUFFIX, e)


def write_activated(cfg: Config, text: str) -> None:
    """An activated configuration (`text` as /zookeeper/config shows it): zoo.cfg.dynamic.<version>, then
    zoo.cfg pointing at it, then .next removed unless it holds a newer proposal. ZooKeeper logs a failure to
    write them and carries on (the txn log, not these files, holds the committed configuration); so do we."""
    if cfg.config_path is None or not cfg.reconfig_enabled:
        return
    version = config_version(text)
    dynamic = dynamic_file_name(cfg.config_path, version)
    try:
        atomic_write(dynamic, dynamic_file_text(text, keep_version=False).encode())
        static = Path(cfg.config_path).read_text(encoding="latin-1")  # Properties.load(InputStream): ISO 8859-1
        new_static = static_file_text(static, os.path.realpath(dynamic), gives_client_address(text, cfg.my_id))
        atomic_write(cfg.config_path, new_static.encode())
    except OSError as e:
        log.error("cannot write the dynamic config file %s or rewrite %s: %s", dynamic, cfg.config_path, e)
    nxt = Path(cfg.config_path + NEXT_SUFFIX)
    try:
        if config_version(nxt.read_text()) <= version:
            nxt.unlink()
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        log.warning("cannot remove %s: %s", nxt, e)


__all__ = ["atomic_write", "config_version", "dynamic_file_name", "dynamic_file_text", "gives_client_address",
           "static_file_text", "write_activated", "write_backup", "write_next"]
