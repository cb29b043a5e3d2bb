"""The reconfig request's prep (PrepRequestProcessor's OpCode.reconfig case): the new configuration from an
incremental (joining / leaving) or non-incremental (new members) request, checked in ZooKeeper's order, as
the SetDataTxn on /zookeeper/config that carries it (data: the new configuration, its version the txn's
zxid).

Only a leader preps a reconfig; its member tells the prep stage what it knows of the ensemble through an
`Ensemble` (the last configuration seen, the active one, which voters are synced)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..jute.constants import Err
from ..jute.records import ReconfigRequest, SetDataTxn
from ..zab import verifier as qv


class ReconfigError(Exception):
    def __init__(self, err: Err, why: str = "") -> None:
        super().__init__(f"{err.name}: {why}")
        self.err = err


class ReconfigFailed(Exception):
    """What ZooKeeper's prep catches as a RuntimeException (a server id that is not a number): the request
    becomes an ErrorTxn MARSHALLINGERROR."""


@dataclass
class Ensemble:
    """A leader's view for the prep stage (QuorumPeer's last seen / active verifier, Leader.isQuorumSynced)."""

    last_seen: Callable[[], qv.QuorumVerifier]
    active: Callable[[], qv.QuorumVerifier]
    quorum_synced: Callable[[qv.QuorumVerifier], bool]
    standalone_enabled: bool = True


def new_config(rec: ReconfigRequest, zxid: int, ens: Ensemble) -> qv.QuorumVerifier:
    """The configuration a reconfig asks for, at version `zxid`, or ReconfigError / ReconfigFailed. The ACL
    check comes after this (ZooKeeper checks /zookeeper/config's ACL last)."""
    last_seen = ens.last_seen()
    if last_seen.version != ens.active().version:
        raise ReconfigError(Err.RECONFIGINPROGRESS)
    if rec.cur_config_id != -1 and rec.cur_config_id != last_seen.version:
        raise ReconfigError(Err.BADVERSION, f"Reconfiguration from version {rec.cur_config_id} failed -- last "
                                            f"seen version is {last_seen.version}")
    if rec.new_members is not None:
        try:
            new = qv.parse(rec.new_members).with_version(zxid)
        except qv.BadServer as e:
            raise ReconfigError(Err.BADARGUMENTS, str(e)) from None
    else:
        new = qv.from_members(_incremental(rec, last_seen), zxid)
    voters = len(new.voters)
    if ens.standalone_enabled and voters < 2:
        raise ReconfigError(Err.BADARGUMENTS, "Reconfig failed - new configuration must include at least 2 "
                                              "followers")
    if voters < 1:
        raise ReconfigError(Err.BADARGUMENTS, "Reconfig failed - new configuration must include at least 1 "
                                              "follower")
    if not ens.quorum_synced(new):
        raise ReconfigError(Err.NEWCONFIGNOQUORUM, "Reconfig failed - there must be a connected and synced "
                                                   "quorum in new configuration")
    return new


def _incremental(rec: ReconfigRequest, last_seen: qv.QuorumVerifier) -> list[qv.Member]:
    members = {m.id: m for m in last_seen.members}
    for leaving in _split(rec.leaving_servers):
        try:
            members.pop(int(leaving), None)
        except ValueError:
            raise ReconfigFailed(f"{leaving!r} is not a server id") from None
    for joiner in _split(rec.joining_servers):
        parts = _split(joiner, "=")
        if len(parts) != 2:
            raise ReconfigError(Err.BADARGUMENTS, "Wrong format of server string")
        try:
            sid = int(parts[0][parts[0].rfind(".") + 1:])
        except ValueError:
            raise ReconfigFailed(f"{parts[0]!r}: the server id is not a number") from None
        try:
            m = qv.parse_server(f"server.{sid}", parts[1])
        except qv.BadServer:
            raise ReconfigError(Err.BADARGUMENTS, "Reconfiguration failed") from None
        if m.client_port is None:
            raise ReconfigError(Err.BADARGUMENTS, "Wrong format of server string - each server should have at "
                                                  "least 3 ports specified")
        try:
            qv.check_addresses(m, list(members.values()))
        except qv.BadServer:
            raise ReconfigError(Err.BADARGUMENTS, "Reconfiguration failed") from None
        members.pop(sid, None)
        members[sid] = m
    return list(members.values())


def _split(s: str | None, sep: str = ",") -> list[str]:
    """ZooKeeper's StringUtils.split: trimmed parts, empty ones left out."""
    if s is None:
        return []
    return [p.strip() for p in s.split(sep) if p.strip()]


def txn(new: qv.QuorumVerifier) -> SetDataTxn:
    return SetDataTxn("/zookeeper/config", new.data(), -1)


__all__ = ["Ensemble", "ReconfigError", "ReconfigFailed", "new_config", "txn"]
