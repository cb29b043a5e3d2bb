"""Summarise the figures the partition tests append to $ZOOPARK_PARTITION_REPORT (JSON lines): for each
server, ensemble size and fault, the median and range of each timing, and how runs ended.

    python tests/partition_report.py report.jsonl [more.jsonl ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

TIMINGS = ("minority_stepdown_s", "majority_elected_s", "elected_s", "failover_s", "minority_registrations_gone_s",
           "ro_first_read_s", "rejoin_s", "caught_up_s", "restart_rejoin_s", "thaw_rejoin_s")


def load(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def table(rows: list[dict]) -> str:
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    server = {}
    for r in rows:  # a run's faults come before its summary, which names the server
        if "fault" not in r:
            for fig in rows:
                if fig.get("seed") == r["seed"] and "fault" in fig:
                    server.setdefault(id(fig), r["kind"])
    for r in rows:
        if "fault" in r:
            key = (server.get(id(r), "?"), r["members"], r["kind"])
            for t in TIMINGS:
                if isinstance(r.get(t), (int, float)):
                    groups[key][t].append(r[t])
            groups[key]["n"].append(1)
    out = ["| server | members | fault | n | " + " | ".join(t.removesuffix("_s") for t in TIMINGS) + " |",
           "|---" * (4 + len(TIMINGS)) + "|"]
    for key in sorted(groups):
        g = groups[key]
        cells = []
        for t in TIMINGS:
            v = g.get(t)
            cells.append(f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})" if v else "")
        out.append(f"| {key[0]} | {key[1]} | {key[2]} | {len(g['n'])} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def runs(rows: list[dict]) -> str:
    out = []
    for r in rows:
        if "fault" not in r:
            verdict = "ok" if not r.get("failures") else "FAILED: " + "; ".join(r["failures"])[:300]
            out.append(f"- {r['kind']} seed {r['seed']} ({r['members']} members, {r['faults']} faults, "
                       f"{r['determinate']} determinate operations, {r['acknowledged creates']} acknowledged "
                       f"creates): {verdict}")
    return "\n".join(out)


if __name__ == "__main__":
    data = load(sys.argv[1:])
    print(table(data))
    print()
    print(runs(data))
