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
            new = _members(rec.new_members, ens.standalone_enabled).with_version(zxid)
        except qv.Unchecked as unchecked:  # each clause its own name: compiled, a name is typed by its clause
            raise ReconfigFailed(str(unchecked)) from None
        except qv.BadServer as bad:
            raise ReconfigError(Err.BADARGUMENTS, str(bad)) from None
    else:
        members, capacity = _incremental(rec, last_seen)
        new = qv.from_members(members, zxid, capacity)
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


def _members(text: str, standalone_enabled: bool) -> qv.QuorumVerifier:
    """A non-incremental reconfig's member list as QuorumPeerConfig.parseDynamicConfig reads it: only server
    lines and a version; its refusals of no participant, or observers without a quorum, are
    IllegalArgumentExceptions (Unchecked)."""
    new = qv.parse(text, strict=True)
    if not new.voters:
        if not standalone_enabled:
            raise qv.Unchecked("standaloneEnabled = false then number of participants should be >0")
        if new.observers:
            raise qv.Unchecked("Observers w/o participants is an invalid configuration")
    elif len(new.voters) == 1 and standalone_enabled and new.observers:
        raise qv.Unchecked("Observers w/o quorum is an invalid configuration")
    return new


def _incremental(rec: ReconfigRequest, last_seen: qv.QuorumVerifier) -> tuple[list[qv.Member], int]:
    """The new members in the order they were put in the HashMap ZooKeeper copies the last seen members into,
    and that map's table size (the copy's, doubled as joiners fill it): the order the new configuration
    prints its members in."""
    members = {m.id: m for m in last_seen.members}
    capacity = qv.copy_capacity(len(members))
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
            sid = qv.parse_id(parts[0][parts[0].rfind(".") + 1:])
            m = qv.parse_server(f"server.{sid}", parts[1])
        except qv.Unchecked as e:
            raise ReconfigFailed(f"{joiner}: {e}") from None
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
        if len(members) > capacity * 3 // 4:
            capacity *= 2
    return list(members.values()), capacity


def _split(s: str | None, sep: str = ",") -> list[str]:
    """ZooKeeper's StringUtils.split: trimmed parts, empty ones left out."""
    if s is None:
        return []
    return [p.strip() for p in s.split(sep) if p.strip()]


def txn(new: qv.QuorumVerifier) -> SetDataTxn:
    return SetDataTxn("/zookeeper/config", new.data(), -1)


__all__ = ["Ensemble", "ReconfigError", "ReconfigFailed", "new_config", "txn"]
