"""`zoopark status host:port,...`: an ensemble at a glance, from the four-letter words every ZooKeeper 3.8
server answers (srvr, mntr), so it works for zoopark, ZooKeeper and mixed ensembles alike: each server's
role, zxid, epoch, connections, outstanding requests, znodes and how many txns it is behind the leader.

Exit status: 0 with one leader and every server answering, 1 if some server did not answer, 2 without a
leader (or with more than one)."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass


@dataclass
class Row:
    server: str
    mode: str = "unreachable"
    zxid: int | None = None
    epoch: int | None = None
    connections: int | None = None
    outstanding: int | None = None
    znodes: int | None = None
    behind: int | None = None  # txns behind the leader (same epoch), or None
    error: str = ""


def four_letter(host: str, port: int, cmd: str, timeout: float) -> str:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        s.shutdown(socket.SHUT_WR)
        chunks = []
        for _ in range(10_000):
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode(errors="replace")


def _split(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.strip().rpartition(":")
    return (host or "127.0.0.1"), int(port or 2181)


def probe(hostport: str, timeout: float = 3.0) -> Row:
    row = Row(hostport)
    try:
        host, port = _split(hostport)
        srvr = four_letter(host, port, "srvr", timeout)
        mntr = four_letter(host, port, "mntr", timeout)
    except (OSError, ValueError) as e:
        row.error = str(e)
        return row
    fields = dict(line.split(": ", 1) for line in srvr.splitlines() if ": " in line)
    rows = dict(line.split("\t", 1) for line in mntr.splitlines() if "\t" in line)
    if "Mode" not in fields:  # not serving (electing, or refusing 4lw): say what it said
        row.mode, row.error = "not serving", srvr.strip()[:200]
        return row
    row.mode = fields["Mode"]
    row.zxid = int(fields.get("Zxid", "0x0"), 16)
    row.epoch = row.zxid >> 32
    row.connections = int(rows.get("zk_num_alive_connections", fields.get("Connections", "0")))
    row.outstanding = int(rows.get("zk_outstanding_requests", fields.get("Outstanding", "0")))
    row.znodes = int(rows.get("zk_znode_count", fields.get("Node count", "0")))
    return row


def status(servers: list[str], timeout: float = 3.0) -> tuple[list[Row], int]:
    rows = [probe(s, timeout) for s in servers]
    leaders = [r for r in rows if r.mode == "leader"]
    if len(leaders) == 1:
        lead = leaders[0]
        for r in rows:
            if r.zxid is not None and lead.zxid is not None and r.epoch == lead.epoch:
                r.behind = max(0, lead.zxid - r.zxid)
    standalone = len(rows) == 1 and rows[0].mode == "standalone"
    if any(r.mode == "unreachable" for r in rows):
        code = 1
    elif len(leaders) != 1 and not standalone:
        code = 2
    else:
        code = 0
    return rows, code


def render(rows: list[Row]) -> str:
    head = ("server", "mode", "zxid", "epoch", "conns", "outstanding", "znodes", "behind")
    table = [head]
    for r in rows:
        table.append((r.server, r.mode, f"0x{r.zxid:x}" if r.zxid is not None else "-",
                      str(r.epoch) if r.epoch is not None else "-",
                      *(str(v) if v is not None else "-" for v in (r.connections, r.outstanding, r.znodes, r.behind))))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines += [f"{r.server}: {r.error}" for r in rows if r.error]
    return "\n".join(lines) + "\n"


def main(servers: str, as_json: bool, timeout: float) -> int:
    rows, code = status([s for s in servers.split(",") if s.strip()], timeout)
    print(json.dumps([asdict(r) for r in rows], indent=2) if as_json else render(rows), end="" if not as_json else "\n")
    return code
