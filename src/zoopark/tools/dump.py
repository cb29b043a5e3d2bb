"""`zoopark logdump` and `zoopark snapdump`: txn log and snapshot files, readable or as JSON lines.

Readable output follows ZooKeeper's TxnLogToolkit (`<time> session 0x.. cxid 0x.. zxid 0x.. <type> <txn>`) and
SnapshotFormatter (a block per znode); `--json` prints one JSON object per line for scripts.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from ..core.jute.constants import OpCode
from ..core.jute.records import MultiTxn
from ..core.jute.txns import decode_txn
from ..persist import txnlog
from ..persist.snapfiles import read_snapshot
from .progress import Progress


def _jsonable(v: object) -> object:
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(v).decode()}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _op_name(t: int) -> str:
    try:
        return OpCode(t).name.lower()
    except ValueError:
        return f"type{t}"


def _record(record: object) -> object:
    if isinstance(record, MultiTxn):
        return [{"type": _op_name(sub.type), "txn": _jsonable(decode_txn(sub.type, sub.data or b""))}
                for sub in record.txns]
    return _jsonable(record)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")


def dump_log(path: Path, as_json: bool, out: TextIO = sys.stdout, progress: Progress | None = None) -> int:
    """Every entry of one log file; returns the number of entries. A torn tail is reported at the end.
    Progress goes to stderr for a large file."""
    entries, torn = txnlog.scan_file(path)
    progress = progress or Progress(path.name, entries[-1][0] if entries else 0)
    n = 0
    for offset, raw in entries:
        progress.update(offset)
        e = txnlog.decode_entry(path, offset, raw)
        h = e.hdr
        if as_json:
            doc = {"zxid": h.zxid, "zxid_hex": f"0x{h.zxid:x}", "time": h.time, "session": f"0x{h.client_id:x}",
                   "cxid": h.cxid, "type": _op_name(h.type), "txn": _record(e.record), "offset": offset}
            if e.digest is not None:
                doc["digest"] = _jsonable(e.digest)
            out.write(json.dumps(doc) + "\n")
        else:
            out.write(f"{_time(h.time)} session 0x{h.client_id:x} cxid 0x{h.cxid:x} zxid 0x{h.zxid:x} "
                      f"{_op_name(h.type)} {_record(e.record)}\n")
        n += 1
    if torn is not None:
        msg = f"{path}: {torn.reason} at offset {torn.offset} (a torn tail: recovery truncates it)"
        if as_json:
            out.write(json.dumps({"torn_tail": {"offset": torn.offset, "reason": torn.reason}}) + "\n")
        else:
            out.write(msg + "\n")
    progress.finish()
    if not as_json:
        out.write(f"EOF reached after {n} txns.\n")
    return n


def dump_snapshot(path: Path, as_json: bool, with_data: bool, out: TextIO = sys.stdout) -> int:
    """The sessions and every znode of a snapshot; returns the number of znodes. Loading a large one shows
    progress on stderr."""
    progress = Progress(f"loading {path.name}", path.stat().st_size)
    s = read_snapshot(path, progress=lambda done, total: progress.update(done))
    progress.finish()
    tree = s.tree
    zxid = txnlog.zxid_of_name(path.name, "snapshot")
    if as_json:
        out.write(json.dumps({"snapshot": path.name, "zxid": zxid, "znodes": len(tree.nodes),
                              "sessions": [{"id": f"0x{sid:x}", "timeout": t} for sid, t in s.sessions.items()],
                              "digest": _jsonable(s.zxid_digest)}) + "\n")
    else:
        out.write(f"Snapshot {path.name}: zxid 0x{zxid or 0:x}, {len(tree.nodes)} znodes, {len(s.sessions)} "
                  f"sessions\n")
        if s.zxid_digest is not None:
            out.write(f"Digest at zxid 0x{s.zxid_digest[0]:x}: {s.zxid_digest[2]} (version {s.zxid_digest[1]})\n")
        for sid, t in s.sessions.items():
            out.write(f"Session 0x{sid:x}: timeout {t} ms, {len(tree.ephemerals_of(sid))} ephemerals\n")
    for p, node in tree.nodes.items():
        st = node.stat()
        if as_json:
            doc = {"path": p, **{f.name: getattr(st, f.name) for f in dataclasses.fields(st)},
                   "acl": _jsonable(node.acl)}
            if with_data:
                doc["data"] = _jsonable(node.data)
            out.write(json.dumps(doc) + "\n")
            continue
        out.write(f"----\n{p}\n  cZxid = 0x{st.czxid:x}\n  ctime = {_time(st.ctime)}\n  mZxid = 0x{st.mzxid:x}\n"
                  f"  mtime = {_time(st.mtime)}\n  pZxid = 0x{st.pzxid:x}\n  cversion = {st.cversion}\n"
                  f"  dataVersion = {st.version}\n  aclVersion = {st.aversion}\n"
                  f"  ephemeralOwner = 0x{node.owner:x}\n  dataLength = {st.data_length}\n")
        if with_data:
            # ZooKeeper's SnapshotFormatter prints null data as empty; we keep the two apart.
            data = "null" if node.data is None else base64.b64encode(node.data).decode()
            out.write(f"  data = {data}\n")
    return len(tree.nodes)


__all__ = ["dump_log", "dump_snapshot"]
