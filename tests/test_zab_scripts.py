"""Interaction scripts for ZAB's recovery corner cases, where ZooKeeper's own data-loss bugs were: DIFF, TRUNC
and SNAP at each boundary of the leader's history, crashes between a write and its fsync at each step of
discovery and sync, a leader with proposals still outstanding, and observers. Each script moves every packet
and every fsync itself (tests/zabscript.py)."""

from __future__ import annotations

import pytest

from zabscript import LEADER, Script, txn
from zoopark.core.jute.quorum import LearnerInfo, PacketType, QuorumPacket, make_zxid
from zoopark.core.zab.leader import StepDown
from zoopark.persist import epochs


def history(epoch: int, first: int, last: int) -> list[tuple[int, bytes]]:
    return [txn(epoch, n) for n in range(first, last + 1)]


def converged(s: Script, *sids: int) -> None:
    want = s.nodes[LEADER].state
    for sid in sids:
        node = s.nodes[sid]
        assert node.state == want, f"server {sid}: {[hex(z) for z, _ in node.state]} vs {[hex(z) for z, _ in want]}"
        assert node.disk.log == want, f"server {sid}'s disk"


@pytest.mark.parametrize(("learner_at", "window_from", "first", "proposals"), [
    (10, 1, "DIFF", 0),  # equal: an empty DIFF
    (7, 1, "DIFF", 3),  # behind, inside the window
    (0, 1, "DIFF", 10),  # empty, and the window starts at the first txn: DIFF from zero
    (5, 5, "DIFF", 5),  # exactly at the window's oldest txn
    (4, 5, "SNAP", 0),  # one before the window: a snapshot of everything applied
    (0, 5, "SNAP", 0),  # empty, and the window does not reach back: a snapshot
])
def test_diff_or_snap_at_each_boundary_of_the_leaders_window(learner_at, window_from, first, proposals) -> None:
    s = Script()
    ld = s.leader(history(1, 1, 10), accepted=1, current=1, window_from=window_from)
    s.learner(2, history(1, 1, learner_at) if learner_at else [], accepted=1, current=1)
    s.deliver(2, LEADER)  # FOLLOWERINFO: with the leader, a quorum; the new epoch is fixed and persisted
    s.fsync(LEADER)
    s.deliver(LEADER, 2)  # LEADERINFO
    s.fsync(2)
    s.deliver(2, LEADER)  # ACKEPOCH
    s.fsync(LEADER)  # currentEpoch; then the sync is queued
    sent = s.sent(LEADER, 2)
    assert sent[0] == first
    if first == "SNAP":
        assert sent[1] == "<snapshot>" and sent.count("PROPOSAL") == 0
    else:
        assert sent.count("PROPOSAL") == sent.count("COMMIT") == proposals
    assert sent[-1] == "NEWLEADER"
    s.settle()
    assert ld.roles and ld.roles[-1].serving, "the epoch was established"
    converged(s, 2)


def test_trunc_takes_back_what_the_learner_logged_and_the_leader_never_had() -> None:
    """The leader established epoch 2 from (1, 5) without the learner, which holds (1, 6) and (1, 7) of an old
    leader that never committed them (a learner of the same epoch and further would be refused instead)."""
    s = Script()
    s.leader(history(1, 1, 5), accepted=2, current=2)
    lr = s.learner(2, history(1, 1, 7), accepted=1, current=1)
    s.settle()
    assert s.nodes[LEADER].outbox == [] and s.nodes[LEADER].roles[-1].serving
    converged(s, 2)
    assert [z for z, _ in lr.disk.log] == [make_zxid(1, n) for n in range(1, 6)], "6 and 7 left the log too"


def test_a_diverged_history_is_truncated_to_the_common_prefix_then_diffed() -> None:
    s = Script()
    s.leader(history(1, 1, 5) + history(2, 1, 3), accepted=2, current=2)
    lr = s.learner(2, history(1, 1, 7), accepted=1, current=1)
    for _ in range(3):
        s.deliver(2, LEADER)
        s.fsync(LEADER)
        s.deliver(LEADER, 2)
        s.fsync(2)
    s.settle()
    converged(s, 2)
    assert [z for z, _ in lr.disk.log] == [z for z, _ in history(1, 1, 5) + history(2, 1, 3)]


def established(s: Script, *sids: int) -> None:
    s.settle()
    assert s.nodes[LEADER].roles[-1].serving
    for sid in sids:
        assert s.nodes[sid].roles[-1].serving


def test_outstanding_proposals_reach_a_syncing_learner_and_commit_on_its_ack() -> None:
    s = Script()
    ld = s.leader(history(1, 1, 3), accepted=1, current=1)
    s.learner(2, history(1, 1, 3), accepted=1, current=1)
    established(s, 2)
    zs = s.propose(2)
    s.fsync(LEADER)  # the leader's own ACK; learner 2 never gets the proposals to disk
    assert zs[0] not in ld.delivered, "one ACK of three voters commits nothing"
    s.learner(3, history(1, 1, 3), accepted=1, current=1)
    s.deliver(3, LEADER)
    s.deliver(LEADER, 3)
    s.fsync(3)
    s.deliver(3, LEADER)
    sent = s.sent(LEADER, 3)
    assert sent.count("PROPOSAL") == 2 and sent.count("COMMIT") == 0, sent  # outstanding: no COMMIT
    for _ in range(6):  # sync, NEWLEADER, ACK, UPTODATE, ACKs of the outstanding proposals
        s.deliver(LEADER, 3)
        s.fsync(3)
        s.deliver(3, LEADER)
    assert ld.delivered[-2:] == zs, "committed by the leader and learner 3"
    assert s.nodes[3].delivered[-2:] == zs


def test_a_learner_that_logged_an_uncommitted_proposal_is_truncated_then_given_it_again() -> None:
    s = Script()
    ld = s.leader(history(1, 1, 3), accepted=1, current=1)
    lr = s.learner(2, history(1, 1, 3), accepted=1, current=1)
    established(s, 2)
    (z,) = s.propose()
    s.deliver(LEADER, 2)  # the PROPOSAL
    s.fsync(2)  # logged; its ACK is lost with the connection
    assert z in [e[0] for e in lr.disk.log]
    s.crash(2)
    s.nodes[LEADER].outbox.clear()
    ld.role.on_disconnected(2)
    s.boot(lr)  # it comes back claiming z
    s.deliver(2, LEADER)
    s.deliver(LEADER, 2)
    s.deliver(2, LEADER)  # ACKEPOCH with last zxid z, ahead of the leader's committed
    sent = s.sent(LEADER, 2)
    assert sent[:2] == ["TRUNC", "PROPOSAL"] and "COMMIT" not in sent[:3], sent
    s.settle()
    assert ld.delivered[-1] == z
    converged(s, 2)


def test_newleader_is_acked_only_after_the_fsync_and_a_crash_before_it_loses_nothing() -> None:
    s = Script()
    ld = s.leader(history(1, 1, 10), accepted=1, current=1)
    lr = s.learner(2, history(1, 1, 5), accepted=1, current=1)
    s.deliver(2, LEADER)  # FOLLOWERINFO
    s.fsync(LEADER)
    s.deliver(LEADER, 2)  # LEADERINFO
    s.fsync(2)
    s.deliver(2, LEADER)  # ACKEPOCH
    s.fsync(LEADER)
    s.deliver(LEADER, 2)  # DIFF, 5 proposals and commits, NEWLEADER
    assert s.sent(2, LEADER) == [], "no ACK of NEWLEADER before the synced txns and the epoch are on disk"
    assert len(lr.unsynced) == 1  # the txns (then the current epoch, then the ACK)
    s.crash(2)
    assert [z for z, _ in lr.disk.log] == [make_zxid(1, n) for n in range(1, 6)] and lr.disk.current == 1
    assert not ld.roles or not ld.roles[-1].serving, "not established without the learner's ACK"
    ld.role.on_disconnected(2)
    s.nodes[LEADER].outbox.clear()
    s.boot(lr)
    s.settle()
    assert ld.roles[-1].serving
    converged(s, 2)
    assert lr.disk.current == ld.role.epoch


def test_a_crash_between_accepting_the_epoch_and_acking_it() -> None:
    s = Script()
    ld = s.leader(history(1, 1, 4), accepted=1, current=1)
    lr = s.learner(2, history(1, 1, 2), accepted=1, current=1)
    s.deliver(2, LEADER)
    s.fsync(LEADER)
    s.deliver(LEADER, 2)  # LEADERINFO: the learner persists acceptedEpoch 2 ...
    s.fsync(2)
    assert lr.disk.accepted == 2
    s.crash(2)  # ... and dies before its ACKEPOCH leaves
    s.nodes[2].outbox.clear()
    ld.role.on_disconnected(2)
    s.boot(lr)  # FOLLOWERINFO with accepted epoch 2: the same epoch is offered and acked at once
    s.settle()
    assert ld.roles[-1].serving and ld.role.epoch == 2
    converged(s, 2)


def test_a_learner_further_than_the_leader_is_refused_while_the_epoch_is_settled() -> None:
    s = Script()
    ld = s.leader(history(1, 1, 4), accepted=2, current=1)
    s.learner(2, history(1, 1, 4) + history(2, 1, 2), accepted=2, current=2)
    s.deliver(2, LEADER)
    s.fsync(LEADER)
    s.deliver(LEADER, 2)
    s.fsync(2)
    s.deliver(2, LEADER)
    assert ld.closed == [2]
    assert not ld.roles or not ld.roles[-1].serving


def test_an_observer_syncs_committed_txns_only_and_then_learns_by_inform() -> None:
    s = Script(voters=(1, 2, 3))
    ld = s.leader(history(1, 1, 3), accepted=1, current=1)
    s.learner(2, history(1, 1, 3), accepted=1, current=1)
    established(s, 2)
    (z,) = s.propose()  # outstanding while the observer syncs
    obs = s.learner(4, history(1, 1, 2), accepted=1, current=1, observer=True)
    s.deliver(4, LEADER)
    s.deliver(LEADER, 4)
    s.fsync(4)
    s.deliver(4, LEADER)
    sent = s.sent(LEADER, 4)
    assert sent.count("PROPOSAL") == 1 and "COMMIT" in sent, sent  # only txn 3, committed; not z
    s.settle()
    assert ld.delivered[-1] == z
    assert obs.delivered[-1] == z and obs.state == ld.state
    assert obs.roles[-1].role == "OBSERVING" or obs.roles[-1].serving
    assert all(p.name() != "ACK" or p.zxid & 0xFFFFFFFF == 0 for _, p in obs.outbox)


def test_a_leader_that_stepped_down_emits_nothing_more() -> None:
    """Leader.tick raises StepDown; whatever its adapter still feeds it before it notices (a client's write,
    a late ACK, its own fsync) must not make it propose, commit or send."""
    s = Script()
    ld = s.leader(history(1, 1, 3), accepted=1, current=1)
    s.learner(2, history(1, 1, 3), accepted=1, current=1)
    established(s, 2)
    (z,) = s.propose()
    leader = ld.role
    with pytest.raises(StepDown):
        leader.tick(s.now + 5 * 2000 + 1)  # nothing from learner 2 for syncLimit: no quorum
    now = s.now + 5 * 2000 + 2
    assert leader.tick(now) == []
    assert leader.on_packet(2, QuorumPacket(PacketType.ACK, z), now) == [], "a late ACK commits nothing"
    assert leader.on_synced(z) == []
    assert leader.on_packet(3, QuorumPacket(PacketType.FOLLOWERINFO, make_zxid(1, 0), LearnerInfo(3).encode()),
                            now) == []
    assert leader.on_disconnected(2) == []
    with pytest.raises(StepDown):
        leader.propose(lambda z: b"late")
    with pytest.raises(StepDown):
        leader.propose_at(make_zxid(2, 2), b"late")
    assert z not in ld.delivered


def test_a_syncing_learner_gets_initlimit_before_it_is_dropped() -> None:
    """ZooKeeper's LearnerHandler reads with initLimit until the learner has ACKed NEWLEADER: a learner that
    is slow to finish its sync (a reload blocks it for a while) is not dropped after syncLimit."""
    s = Script()
    ld = s.leader(history(1, 1, 3), accepted=1, current=1)
    s.learner(2, history(1, 1, 3), accepted=1, current=1)
    established(s, 2)
    s.learner(3, history(1, 1, 1), accepted=1, current=1)
    s.deliver(3, LEADER)  # FOLLOWERINFO
    s.deliver(LEADER, 3)  # LEADERINFO
    s.fsync(3)
    s.deliver(3, LEADER)  # ACKEPOCH: the leader sends the DIFF and NEWLEADER; learner 3 is now silent
    assert "NEWLEADER" in s.sent(LEADER, 3)
    tick_ms, sync_limit, init_limit = 2000, 5, 10
    start = s.now
    for t in range(start + tick_ms, start + init_limit * tick_ms + 1, tick_ms):
        ld.role.on_packet(2, QuorumPacket(PacketType.PING, 0), t)  # the synced follower keeps the quorum
        s.run(ld, ld.role.tick(t))
        assert 3 not in ld.closed, f"dropped after {t - start} ms, within initLimit"
    assert t - start > sync_limit * tick_ms
    ld.role.on_packet(2, QuorumPacket(PacketType.PING, 0), t + tick_ms)
    s.run(ld, ld.role.tick(t + tick_ms))
    assert ld.closed == [3], "dropped once initLimit has passed"


def load_from(disk, tmp_path) -> tuple[int, int]:
    """Start-up's epoch check (persist/epochs.load_epochs) on what a script's disk holds."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in (epochs.CURRENT, epochs.ACCEPTED, epochs.UPDATING):
        (tmp_path / name).unlink(missing_ok=True)
    epochs.write_epoch(tmp_path, epochs.ACCEPTED, disk.accepted)
    epochs.write_epoch(tmp_path, epochs.CURRENT, disk.current)
    epochs.mark_updating(tmp_path, disk.updating)
    return epochs.load_epochs(tmp_path, disk.log[-1][0] if disk.log else 0)


@pytest.mark.parametrize("sync", ["DIFF", "SNAP"])
def test_a_learner_killed_at_any_write_of_its_sync_starts_again(sync, tmp_path) -> None:
    """The leader's history reaches epoch 2; the learner, at epoch 1, syncs into epoch 3: its log (or the
    snapshot) gets txns of epoch 2 before its currentEpoch becomes 3. Killed after each of its writes in
    turn, it must start (the marker lets recovery take the epoch from the last zxid), never claim an epoch
    whose txns it has not logged, and then sync to the leader's history."""
    leader_log = history(1, 1, 6) + history(2, 1, 4)
    points = 0
    for crash_after in range(10):
        s = Script()
        s.leader(leader_log, accepted=2, current=2, window_from=1 if sync == "DIFF" else 5)
        lr = s.learner(2, history(1, 1, 3), accepted=1, current=1)
        s.deliver(2, LEADER)  # FOLLOWERINFO
        s.fsync(LEADER)
        s.deliver(LEADER, 2)  # LEADERINFO
        s.fsync(2)  # acceptedEpoch 3, then ACKEPOCH
        s.deliver(2, LEADER)
        s.fsync(LEADER)  # the leader's currentEpoch: the sync is queued
        assert s.sent(LEADER, 2)[0] == sync
        s.deliver(LEADER, 2)
        writes = 0
        while lr.unsynced and writes < crash_after:
            s.fsync(2, count=1)
            writes += 1
        if writes < crash_after:
            break  # every write of the sync was on disk before this crash point: all points covered
        points += 1
        s.crash(2)
        d = lr.disk
        last = d.log[-1][0] if d.log else 0
        accepted, current = load_from(d, tmp_path / f"{sync}-{crash_after}")
        assert current >= last >> 32, "recovery's current epoch covers the log"
        if current == 3:  # ZOOKEEPER-4643: the new epoch, claimed without the sync's txns, wins elections
            assert d.log == s.nodes[LEADER].state, "currentEpoch 3 on a disk without the whole sync"
        assert accepted >= current
        d.current, d.accepted, d.updating = current, accepted, False  # what recovery settled
        s.nodes[LEADER].outbox.clear()
        s.nodes[LEADER].role.on_disconnected(2)
        s.boot(lr)
        s.settle()
        assert s.nodes[LEADER].roles[-1].serving
        converged(s, 2)
        assert lr.disk.current == 3 and not lr.disk.updating
    assert points >= 3, f"only {points} crash points"
