"""Four-letter words: the same shapes as ZooKeeper 3.8's for the same state (numbers and ids masked)."""

from __future__ import annotations

import re

import pytest
from kazoo.client import KazooClient

from procs import ZooKeeperProcess, ZooParkProcess, four_letter
from references import needs

pytestmark = [pytest.mark.zk, needs("zookeeper")]

COMMANDS = ["ruok", "srvr", "stat", "cons", "conf", "wchs", "wchc", "wchp", "dump", "dirs", "isro", "crst", "srst"]


def shape(text: str, cmd: str) -> list[str]:
    text = re.sub(r"Zookeeper version: [^\n]*", "Zookeeper version: V", text)
    text = re.sub(r"expire at [^\n]*:", "expire at D:", text)
    text = re.sub(r"0x[0-9a-f]+", "0xH", text)
    text = re.sub(r"/tmp/[^/\s]+/", "/tmp/T/", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    lines = text.split("\n")
    if cmd == "dump":  # how sessions and connections fall into expiry buckets depends on timing
        lines = [line for line in lines if "expire at" not in line]
    if cmd in ("stat", "cons", "dump"):  # ZooKeeper lists connections from a hash set: order is arbitrary
        return sorted(lines)
    return lines


@pytest.fixture(scope="module")
def outputs():
    res = {}
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as server:
            kz = KazooClient(server.hosts)
            kz.start(timeout=15)
            try:
                kz.create("/w", b"x")
                kz.get("/w", watch=lambda e: None)
                kz.exists("/missing", watch=lambda e: None)
                kz.create("/e", ephemeral=True)
                res[cls.kind] = {c: four_letter(server.port, c) for c in COMMANDS}
                res[cls.kind]["mntr"] = four_letter(server.port, "mntr")
            finally:
                kz.stop()
                kz.close()
    return res


@pytest.mark.parametrize("cmd", COMMANDS)
def test_same_shape_as_zookeeper(outputs, cmd):
    assert shape(outputs["zoopark"][cmd], cmd) == shape(outputs["zookeeper"][cmd], cmd)


def test_mntr_keys_are_zookeepers(outputs):
    def keys(text: str) -> dict[str, str]:
        return dict(line.split("\t", 1) for line in text.strip().splitlines())
    ours, theirs = keys(outputs["zoopark"]["mntr"]), keys(outputs["zookeeper"]["mntr"])
    assert set(ours) <= set(theirs), set(ours) - set(theirs)
    for k in ("zk_server_state", "zk_znode_count", "zk_ephemerals_count", "zk_watch_count", "zk_global_sessions"):
        assert ours[k] == theirs[k], k
