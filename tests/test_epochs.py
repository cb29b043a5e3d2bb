"""currentEpoch / acceptedEpoch at start-up (persist/epochs.py): what ZooKeeper's QuorumPeer.loadDataBase
accepts and refuses, and the updatingEpoch marker of a learner's sync cut short."""

from __future__ import annotations

import pytest

from zoopark.core.jute.quorum import make_zxid
from zoopark.persist import epochs


def disk(tmp_path, accepted: int, current: int, updating: bool = False):
    epochs.write_epoch(tmp_path, epochs.ACCEPTED, accepted)
    epochs.write_epoch(tmp_path, epochs.CURRENT, current)
    epochs.mark_updating(tmp_path, updating)
    return tmp_path


def test_a_log_newer_than_the_current_epoch_is_refused_without_the_marker(tmp_path) -> None:
    d = disk(tmp_path, accepted=5, current=4)
    with pytest.raises(epochs.EpochError, match="older than the last zxid 0x500000232"):
        epochs.load_epochs(d, make_zxid(5, 0x232))


def test_with_the_marker_the_current_epoch_is_that_of_the_last_zxid_and_the_marker_goes(tmp_path) -> None:
    d = disk(tmp_path, accepted=5, current=3, updating=True)
    assert epochs.load_epochs(d, make_zxid(4, 7)) == (5, 4)
    assert epochs.read_epoch(d, epochs.CURRENT) == 4, "written back"
    assert not (d / epochs.UPDATING).exists()
    assert epochs.load_epochs(d, make_zxid(4, 7)) == (5, 4), "and the next start agrees"


def test_a_marker_left_when_the_epoch_was_already_written_changes_nothing_and_goes(tmp_path) -> None:
    d = disk(tmp_path, accepted=5, current=5, updating=True)
    assert epochs.load_epochs(d, make_zxid(4, 7)) == (5, 5)
    assert not (d / epochs.UPDATING).exists()


def test_an_accepted_epoch_behind_the_current_one_is_still_refused(tmp_path) -> None:
    d = disk(tmp_path, accepted=3, current=3, updating=True)
    with pytest.raises(epochs.EpochError, match="accepted epoch 3 is less than the current epoch 4"):
        epochs.load_epochs(d, make_zxid(4, 1))


def test_a_reload_in_the_middle_of_a_sync_keeps_the_marker(tmp_path) -> None:
    # After a TRUNC the member reloads; the sync goes on to log txns of an epoch newer than currentEpoch,
    # and only the marker lets a crash before currentEpoch is written leave a disk that starts.
    d = disk(tmp_path, accepted=5, current=3, updating=True)
    assert epochs.load_epochs(d, make_zxid(3, 7), settle_marker=False) == (5, 3)
    assert (d / epochs.UPDATING).exists()
    assert epochs.load_epochs(d, make_zxid(4, 2)) == (5, 4), "the sync's txns logged, then a crash"


def test_the_members_reload_after_a_trunc_keeps_the_marker_of_its_sync(tmp_path) -> None:
    """runtime/memberdisk.py: a TRUNC reloads the database; the marker the sync raised before it must survive
    that reload (found by reading while building the member simulator: the reload settled it)."""
    from zoopark.config import parse_config
    from zoopark.runtime.memberdisk import MemberDisk

    (tmp_path / "myid").write_text("2\n")
    cfg = parse_config(f"dataDir={tmp_path}\nclientPort=2181\ntickTime=500\ninitLimit=10\nsyncLimit=5\n"
                       "server.1=127.0.0.1:1:2\nserver.2=127.0.0.1:3:4\nserver.3=127.0.0.1:5:6\n", tmp_path)
    disk = MemberDisk(cfg)
    disk.load()
    disk.open_writer(lambda fn: fn(), lambda *a: None)
    try:
        epochs.mark_updating(cfg.snap_dir, True)  # the learner's UpdatingEpoch(True), before its Truncate
        disk.truncate(0)
        assert (cfg.snap_dir / epochs.UPDATING).exists()
        disk.reload()  # the reload that starts the next election settles it
        assert not (cfg.snap_dir / epochs.UPDATING).exists()
    finally:
        disk.close()
