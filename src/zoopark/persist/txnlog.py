"""The transaction log in ZooKeeper 3.8's format (FileTxnLog).

A log file `log.<hex zxid of its first txn>` holds a FileHeader ("ZKLG", version 2, dbid 0) and then entries:
    long  Adler32 of the entry bytes
    int   length, then the entry bytes (TxnHeader + txn record [+ TxnDigest])
    byte  0x42 ('B', end of record)
Files are pre-allocated with zeros in preAllocSize steps, so a zero length marks the end of the written data.
A server starts a new file at its first append after start-up (as ZooKeeper does), so a torn tail can only be
at the end of a file that was being written when the process died.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.jute.io import JuteError, Reader
from ..core.jute.records import TxnDigest, TxnHeader
from ..core.jute.txns import read_txn

log = logging.getLogger("zoopark.persist")

TXNLOG_MAGIC = 0x5A4B4C47  # "ZKLG"
VERSION = 2
HEADER_BYTES = 16
_HEADER = struct.Struct(">iiq")
_ENTRY_PREFIX = struct.Struct(">qi")
_EOR = b"B"
_ZXID = struct.Struct(">q")  # TxnHeader: long clientId, int cxid, long zxid, ...
_ZXID_AT = 12
_ZXID_END = _ZXID_AT + _ZXID.size
_PAD_MARGIN = 4096  # FilePadding pads once the position is within 4 KiB of the padded size


def log_name(zxid: int) -> str:
    return f"log.{zxid:x}"


def zxid_of_name(name: str, prefix: str) -> int | None:
    if not name.startswith(prefix + "."):
        return None
    try:
        return int(name[len(prefix) + 1 :], 16)
    except ValueError:
        return None


def log_files(log_dir: Path) -> list[tuple[int, Path]]:
    """(first zxid, path) of every log file, in zxid order."""
    out = []
    if log_dir.is_dir():
        for p in log_dir.iterdir():
            z = zxid_of_name(p.name, "log")
            if z is not None and p.is_file():
                out.append((z, p))
    return sorted(out)


def files_from(log_dir: Path, zxid: int) -> list[Path]:
    """The files that may hold txns after `zxid`: the last one starting at or before the txn after it, and all
    later ones. (A server rolls its log when it snapshots, so the file before the one starting at zxid + 1
    holds only txns the snapshot has: reading it would decode a whole snapCount of txns to skip them.)"""
    files = log_files(log_dir)
    start = 0
    for i, (first, _) in enumerate(files):
        if first <= zxid + 1:
            start = i
    return [p for _, p in files[start:]]


def padded_size(position: int, current_size: int, prealloc: int) -> int:
    """FilePadding.calculateFileSizeWithPadding."""
    if prealloc > 0 and position + _PAD_MARGIN >= current_size:
        if position > current_size:
            size = position + prealloc
            return size - size % prealloc
        return current_size + prealloc
    return current_size


def marshal_entry(entry: bytes) -> bytes:
    """Checksum, length, bytes, end-of-record: one entry exactly as FileTxnLog.append writes it."""
    return _ENTRY_PREFIX.pack(zlib.adler32(entry), len(entry)) + entry + _EOR


class CorruptLog(Exception):
    def __init__(self, path: Path, offset: int, reason: str) -> None:
        super().__init__(
            f"{path}: corrupt txn log at offset {offset}: {reason}. Committed txns follow this point, so "
            f"zoopark will not start from it. Restore this file from a backup or another replica, or (losing "
            f"the txns after offset {offset}) move it and every later log file aside."
        )
        self.path = path
        self.offset = offset


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 1 us more, per txn replayed at start-up
class LogEntry:
    zxid: int
    hdr: TxnHeader
    record: object | None
    digest: TxnDigest | None
    path: Path
    offset: int
    raw: bytes = b""  # the entry as logged (TxnHeader + record [+ digest]): what a leader sends in a DIFF


@dataclass(frozen=True, slots=True)
class TornTail:
    path: Path
    offset: int
    reason: str


def scan_file(path: Path) -> tuple[list[tuple[int, bytes]], TornTail | None]:
    """Every valid (offset, entry bytes) of one file, and where its written data ends badly, if it does.
    The file is mapped, not read: the pre-allocated zeros after the last entry are never touched."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < HEADER_BYTES:
            return [], TornTail(path, 0, "file shorter than its header")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _scan(path, data)


def _scan(path: Path, data: mmap.mmap) -> tuple[list[tuple[int, bytes]], TornTail | None]:
    if len(data) < HEADER_BYTES:
        return [], TornTail(path, 0, "file shorter than its header")
    magic, version, _dbid = _HEADER.unpack_from(data, 0)
    if magic == 0 and version == 0 and _all_zero(data):
        return [], TornTail(path, 0, "file holds no data (created, never written)")
    if magic != TXNLOG_MAGIC or version != VERSION:
        raise CorruptLog(path, 0, f"bad file header (magic 0x{magic:08x}, version {version})")
    out: list[tuple[int, bytes]] = []
    pos, end = HEADER_BYTES, len(data)
    while pos + _ENTRY_PREFIX.size <= end:
        crc, n = _ENTRY_PREFIX.unpack_from(data, pos)
        if n == 0 and crc == 0:
            return out, None  # the zero padding: end of the written data
        body_end = pos + _ENTRY_PREFIX.size + n
        if n <= 0 or body_end + 1 > end:
            return out, _tail_or_corrupt(data, path, pos, f"entry length {n} runs past the end of the file")
        entry = data[pos + _ENTRY_PREFIX.size : body_end]
        if data[body_end : body_end + 1] != _EOR:
            return out, _tail_or_corrupt(data, path, pos, "entry has no end-of-record byte (partial write)")
        if zlib.adler32(entry) != crc & 0xFFFFFFFF:
            return out, _tail_or_corrupt(data, path, pos, "checksum mismatch")
        out.append((pos, entry))
        pos = body_end + 1
    if pos < end and any(data[pos:end]):
        return out, TornTail(path, pos, "partial entry prefix at the end of the file")
    return out, None


def _all_zero(data: mmap.mmap) -> bool:
    step = 1 << 20
    for start in range(0, len(data), step):
        chunk = data[start : start + step]
        if chunk.count(0) != len(chunk):
            return False
    return True


def _tail_or_corrupt(data: bytes, path: Path, pos: int, reason: str) -> TornTail:
    """A bad entry is a torn tail unless a verifiable entry follows it in the file: then committed data lies
    beyond the damage, and starting without it would lose acknowledged txns."""
    if _valid_entry_after(data, pos):
        raise CorruptLog(path, pos, reason)
    return TornTail(path, pos, reason)


def _valid_entry_after(data: bytes, pos: int) -> bool:
    """Is there a complete entry with a good checksum after `pos`? Entries start right after an EOR byte."""
    end = len(data)
    k = data.find(_EOR, pos)
    while k != -1:
        s = k + 1
        if s + _ENTRY_PREFIX.size <= end:
            crc, n = _ENTRY_PREFIX.unpack_from(data, s)
            e = s + _ENTRY_PREFIX.size + n
            if 0 < n and e < end and data[e] == 0x42 and zlib.adler32(data[s + _ENTRY_PREFIX.size : e]) == crc & 0xFFFFFFFF:
                return True
        k = data.find(_EOR, k + 1)
    return False


def decode_entry(path: Path, offset: int, entry: bytes) -> LogEntry:
    """TxnHeader, the txn record its type names, then the optional TxnDigest 3.8 appends (one pass)."""
    try:
        r = Reader(entry)
        hdr = TxnHeader.read(r)
        record = read_txn(hdr.type, r)
        digest = TxnDigest.read(r) if record is not None and r.remaining() >= 12 else None
    except JuteError as e:
        raise CorruptLog(path, offset, f"entry does not decode: {e}") from e
    return LogEntry(hdr.zxid, hdr, record, digest, path, offset, entry)


Scanned = dict[Path, list[tuple[int, bytes]]]  # a file's valid entries, as scan_file found them


def iter_entries(log_dir: Path, from_zxid: int = 0, scanned: Scanned | None = None) -> Iterator[LogEntry]:
    """Txns with zxid > from_zxid, in order, across files. A torn tail ends its file; damage before it raises.
    `scanned` holds files already scanned (truncate_torn_tail's): their entries are not checksummed again."""
    files = files_from(log_dir, from_zxid)
    firsts = [zxid_of_name(p.name, "log") or 0 for p in files]
    for i, path in enumerate(files):
        known = scanned.pop(path, None) if scanned is not None else None
        entries, torn = (known, None) if known is not None else scan_file(path)
        if torn is not None and i != len(files) - 1:
            log.warning("%s: %s at offset %d; later files continue the log", path, torn.reason, torn.offset)
        # A later file supersedes anything of this one at or past its first zxid (a write that failed and
        # was retried in a new file after the disk recovered).
        stop = firsts[i + 1] if i + 1 < len(files) else None
        for offset, entry in entries:
            if len(entry) >= _ZXID_END and _ZXID.unpack_from(entry, _ZXID_AT)[0] <= from_zxid:
                continue  # in the snapshot already: not decoded (its checksum was checked by the scan)
            e = decode_entry(path, offset, entry)
            if stop is not None and e.zxid >= stop:
                log.warning("%s: ignoring zxid 0x%x and later, superseded by %s", path, e.zxid, files[i + 1].name)
                break
            if e.zxid > from_zxid:
                yield e


def find_torn_tails(log_dir: Path, scanned: Scanned | None = None) -> list[TornTail]:
    """A torn tail can only be in the newest file: each start, and each recovery from a failed write, begins
    a new one, and earlier files were complete when it did. (Scanning every file would read the whole
    history at each start.) The newest file's valid entries go into `scanned`, if given: they are the ones
    left once its torn tail is zeroed, so the replay need not scan it again."""
    files = log_files(log_dir)
    if not files:
        return []
    path = files[-1][1]
    entries, torn = scan_file(path)
    if scanned is not None and (torn is None or torn.offset > 0):
        scanned[path] = entries
    return [torn] if torn is not None else []


def truncate_torn_tail(log_dir: Path, scanned: Scanned | None = None) -> list[str]:
    """Zero every torn tail (the bytes of an entry that never fully reached the disk); return warnings.
    `scanned`: as find_torn_tails."""
    warnings = []
    for torn in find_torn_tails(log_dir, scanned):
        if torn.offset == 0:
            # Not even a header reached the disk: the file never held a txn.
            torn.path.unlink()
            warnings.append(f"{torn.path}: {torn.reason}: removed it (it held no txn)")
            continue
        with open(torn.path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(torn.offset)
            remaining = size - torn.offset
            while remaining > 0:
                chunk = min(remaining, 1 << 20)
                f.write(bytes(chunk))
                remaining -= chunk
            f.flush()
            os.fsync(f.fileno())
        warnings.append(f"{torn.path}: {torn.reason} at offset {torn.offset}: truncated the torn tail "
                        f"({size - torn.offset} bytes zeroed); that txn was never acknowledged")
    return warnings


def truncate(log_dir: Path, zxid: int) -> None:
    """Remove every txn after `zxid` (ZooKeeper's FileTxnLog.truncate, used by TRUNC)."""
    for first, path in log_files(log_dir):
        if first > zxid:
            path.unlink()
            continue
        entries, _ = scan_file(path)
        cut = None
        for offset, entry in entries:
            if decode_entry(path, offset, entry).zxid > zxid:
                cut = offset
                break
        if cut is not None:
            with open(path, "r+b") as f:
                f.truncate(cut)
                os.fsync(f.fileno())


def last_zxid(log_dir: Path) -> int:
    last = 0
    files = log_files(log_dir)
    for _, path in reversed(files):
        entries, _ = scan_file(path)
        if entries:
            return decode_entry(path, *entries[-1]).zxid
    return last


class TxnLog:
    """The append side. Not thread-safe: one writer thread owns it."""

    def __init__(self, log_dir: Path, prealloc_bytes: int = 64 * 1024 * 1024, force_sync: bool = True) -> None:
        assert prealloc_bytes >= 0
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.prealloc_bytes = prealloc_bytes
        self.force_sync = force_sync
        self._fd: int | None = None
        self.path: Path | None = None
        self._position = 0  # where the next entry goes
        self._durable = 0  # everything before this offset is fsynced
        self._size = 0  # the padded size of the file
        self._buf: list[bytes] = []
        self._last_zxid = 0
        self.sync_seconds = 0.0  # the last sync's write and fsync (not the file's pre-allocation)

    def append(self, zxid: int, entry: bytes) -> None:
        self.extend(((zxid, entry),))

    def extend(self, entries) -> None:
        """Append (zxid, entry) pairs, in zxid order: one pass, no call per entry but its checksum's."""
        if not entries:
            return
        if self._fd is None:
            self._open(entries[0][0])
        buf, pack, adler32, last = self._buf, _ENTRY_PREFIX.pack, zlib.adler32, self._last_zxid
        for zxid, entry in entries:
            assert zxid > last, f"zxid 0x{zxid:x} after 0x{last:x}"
            last = zxid
            buf.append(pack(adler32(entry), len(entry)) + entry + _EOR)
        self._last_zxid = last

    def _open(self, zxid: int) -> None:
        path = self.log_dir / log_name(zxid)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, _HEADER.pack(TXNLOG_MAGIC, VERSION, 0))
        self._fd, self.path = fd, path
        self._position = self._durable = HEADER_BYTES
        self._size = HEADER_BYTES
        fsync_dir(self.log_dir)

    def sync(self) -> int:
        """Write what was appended and fsync it: the group-commit unit; the bytes written. On OSError nothing
        new is durable."""
        if not self._buf:
            return 0
        assert self._fd is not None
        data = b"".join(self._buf)
        self._buf.clear()
        try:
            end = self._position + len(data)
            new_size = self._size if end + _PAD_MARGIN < self._size else padded_size(end, self._size, self.prealloc_bytes)
            if new_size > self._size:
                # Reserve the space now, so a full disk fails here, before any byte of the batch is written.
                if _HAS_FALLOCATE:
                    os.posix_fallocate(self._fd, self._size, new_size - self._size)
                else:
                    os.pwrite(self._fd, b"\0", new_size - 1)
                self._size = new_size
            self._write_synced(data)
        except OSError:
            self._rewind()
            raise
        self._position += len(data)
        self._durable = self._position
        return len(data)

    def _write_synced(self, data: bytes) -> None:
        """Write `data` at the position and, with forceSync, make it durable: one pwritev2(RWF_DSYNC) where
        the kernel has it (the data and the metadata needed to read it back, as write + fdatasync, in one
        system call: one release of the GIL instead of two), else pwrite and fdatasync."""
        global _dsync
        fd, pos, written = self._fd, self._position, 0
        assert fd is not None
        start = time.perf_counter()
        synced = False
        if self.force_sync and _dsync:
            try:
                written = os.pwritev(fd, (data,), pos, _RWF_DSYNC)
                synced = written == len(data)
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise
                _dsync = False  # this kernel or filesystem has no RWF_DSYNC: nothing was written
        while written < len(data):
            written += os.pwrite(fd, data[written:], pos + written)
        if self.force_sync and not synced:
            os.fdatasync(fd)
        self.sync_seconds = time.perf_counter() - start

    def _rewind(self) -> None:
        """After a failed write or fsync: zero what may have landed past the durable offset and start a new
        file at the next append, so no byte of an unacknowledged txn is ever read back as committed."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, self._durable)
        except OSError:
            pass
        os.close(fd)
        self._last_zxid = 0

    def abandon(self) -> None:
        """After a failure anywhere in a batch: forget what was appended and not synced, and start a new file
        at the next append (as after a failed write)."""
        self._buf.clear()
        self._rewind()
        self._last_zxid = 0

    def roll(self) -> None:
        """Finish this file; the next append starts a new one (after a snapshot)."""
        self.sync()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        try:
            self.roll()
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def last_zxid(self) -> int:
        return self._last_zxid


_HAS_FALLOCATE = hasattr(os, "posix_fallocate")
_RWF_DSYNC = getattr(os, "RWF_DSYNC", 0)
_dsync = bool(_RWF_DSYNC) and hasattr(os, "pwritev")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

