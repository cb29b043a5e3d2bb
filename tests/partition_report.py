"""Summarise the figures the partition tests append to $ZOOPARK_PARTITION_REPORT (JSON lines): for each
fault, ensemble size and server, the median and range of each timing, then how each run ended.

    python tests/partition_report.py zoopark.jsonl [zookeeper.jsonl ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

# column -> the figures that fill it (a fault has one of them)
COLUMNS = {
    "minority stops serving": ("minority_stepdown_s",),
    "leader": ("majority_elected_s", "elected_s"),
    "writes again": ("failover_s",),
    "cut-off registrations gone": ("minority_registrations_gone_s",),
    "RO read": ("ro_first_read_s",),
    "rejoined": ("rejoin_s", "restart_rejoin_s", "thaw_rejoin_s"),
    "caught up": ("caught_up_s",),
}
SERVERS = {"Member": "zoopark", "ZooKeeperMember": "ZooKeeper"}


def load(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def runs_of(rows: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Each run's summary with its faults (the lines before it, since the previous summary)."""
    out, faults = [], []
    for r in rows:
        if "fault" in r:
            faults.append(r)
        else:
            out.append((r, faults))
            faults = []
    return out


def table(rows: list[dict]) -> str:
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for summary, faults in runs_of(rows):
        for r in faults:
            key = (r["kind"], r["members"], SERVERS.get(summary["kind"], summary["kind"]))
            groups[key]["n"].append(1)
            for col, names in COLUMNS.items():
                groups[key][col] += [r[n] for n in names if isinstance(r.get(n), (int, float))]
    out = ["| fault | members | server | n | " + " | ".join(COLUMNS) + " |", "|---" * (4 + len(COLUMNS)) + "|"]
    for key in sorted(groups):
        g = groups[key]
        cells = [f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})" if (v := g.get(c)) else "" for c in COLUMNS]
        out.append(f"| {key[0]} | {key[1]} | {key[2]} | {len(g['n'])} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdicts(rows: list[dict]) -> str:
    out = []
    for r, _ in runs_of(rows):
        verdict = "ok" if not r.get("failures") else "FAILED: " + "; ".join(r["failures"])[:300]
        out.append(f"- {SERVERS.get(r['kind'], r['kind'])} seed {r['seed']} ({r['members']} members, {r['faults']} "
                   f"faults, {r['determinate']} operations with a known outcome, {r['acknowledged creates']} "
                   f"acknowledged creates): {verdict}")
    return "\n".join(out)


if __name__ == "__main__":
    data = load(sys.argv[1:])
    print(table(data))
    print()
    print(verdicts(data))
