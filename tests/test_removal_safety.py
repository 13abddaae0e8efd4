"""The moment of removal: one file is one file however it is reached, the trash is private, a crash settles."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import closing

import pytest

from conftest import json_lines, make_photo, run, run_unprivileged
from shashin import review, trash
from shashin.similarity import Group
from shashin.store import Store


def scan(db, *paths):
    run("shashin-hash", "--db", db, "-q", *paths, check=0)
    return json_lines(run("shashin-group", "--db", db, "-v", check=0).stdout)


def forced_group(store, *paths):
    """A group holding these paths, as an older shashin (or a hand-edited database) could have stored it."""
    rows = store.images_by_path(paths)
    [group_id] = store.replace_groups([Group("exact", [(path, rows[path]["md5"], 0) for path in paths])])
    return group_id


@pytest.fixture
def nas(tmp_path):
    """nas/Pictures with a photo, its byte-identical copy and another photo; Pictures links to it."""
    pictures = tmp_path / "nas" / "Pictures"
    make_photo(pictures / "a.jpg", 0)
    shutil.copy2(pictures / "a.jpg", pictures / "a copy.jpg")
    make_photo(pictures / "b.jpg", 1)
    (tmp_path / "Pictures").symlink_to(pictures)
    return tmp_path


def test_a_folder_scanned_through_a_link_and_by_its_real_path_is_one_set_of_files(nas, db):
    groups = scan(db, str(nas / "Pictures") + "/", nas / "nas" / "Pictures")
    real = nas / "nas" / "Pictures"
    # The only copies are the two real files: b.jpg is not a copy of itself, nor a.jpg of itself.
    assert [sorted(group["paths"]) for group in groups] == [[str(real / "a copy.jpg"), str(real / "a.jpg")]]
    result = run("shashin-group", "--db", db, "-v", check=0)
    assert "3 same file" in result.stderr
    assert "Pictures/b.jpg: the same file as {} (one file, two paths)".format(real / "b.jpg") in result.stderr
    with closing(Store(db)) as store:
        row = store.images_by_path([str(nas / "Pictures" / "b.jpg")])[str(nas / "Pictures" / "b.jpg")]
        assert row["real_path"] == str(real / "b.jpg") and row["inode"] == os.stat(real / "b.jpg").st_ino
        # The review page says so beside the group.
        members = store.review_members([groups[0]["group"]])[groups[0]["group"]]
        assert "a.jpg is the same file as {} (one file, two paths), not another copy".format(
            nas / "Pictures" / "a.jpg"
        ) in review.warnings(members)


def test_a_double_slash_prefix_is_the_same_file(nas, db):
    real = nas / "nas" / "Pictures" / "b.jpg"
    assert scan(db, real, "/" + str(real)) == []


def test_hard_links_are_one_file(tmp_path, db):
    photo = make_photo(tmp_path / "Pictures" / "a.jpg", 0)
    os.link(photo, tmp_path / "Pictures" / "a link.jpg")
    assert scan(db, tmp_path / "Pictures") == []


@pytest.mark.parametrize("how", ["folder link", "hard link"])
def test_removal_never_takes_the_file_that_stays_by_another_path(nas, db, how):
    real = nas / "nas" / "Pictures"
    other = nas / "Pictures" / "b.jpg"
    if how == "hard link":
        other = real / "b again.jpg"
        os.link(real / "b.jpg", other)
    scan(db, str(nas / "Pictures") + "/", real)
    with closing(Store(db)) as store:
        group = forced_group(store, str(other), str(real / "b.jpg"))
        _, [outcome] = trash.remove(store, group, [str(other)])
        assert not outcome.ok and "same file as {}".format(real / "b.jpg") in outcome.message
        assert store.trash_entries() == [] and store.decisions(group) == []
        _, [outcome] = trash.remove(store, group, [str(real / "b.jpg")])
        assert not outcome.ok and "same file as {}".format(other) in outcome.message
    assert (real / "b.jpg").exists() and other.exists()


def test_a_trash_folder_of_another_user_is_never_used(tmp_path, db):
    if os.geteuid() != 0:
        pytest.skip("needs root to act as a second user")
    share = tmp_path / "share"
    share.mkdir()
    share.chmod(0o1777)  # a folder everybody may write, like a NAS share or /tmp
    make_photo(share / "a.jpg", 0)
    shutil.copy2(share / "a.jpg", share / "a copy.jpg")
    planted = share / trash.TRASH_FOLDER
    assert run_unprivileged(tmp_path, shutil.which("mkdir"), "-m", "777", planted).returncode == 0
    [group] = scan(db, share)
    with closing(Store(db)) as store:
        _, [outcome] = trash.remove(store, group["group"], [str(share / "a copy.jpg")])
        assert not outcome.ok and "belongs to another user (uid 65534)" in outcome.message
        assert store.trash_entries() == [] and store.decisions(group["group"]) == []
    assert (share / "a copy.jpg").exists() and os.listdir(planted) == []


def test_a_trash_folder_others_may_enter_is_refused(duplicates):
    db, photos = duplicates
    folder = db.parent / trash.TRASH_FOLDER
    folder.chmod(0o755)
    with closing(Store(db)) as store:
        group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
        _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "open to other users (mode 755)" in outcome.message
    assert os.path.exists(photos["photo copy"])


def removed_into_trash(store, photos):
    """The trash entry of "photo copy", removed from its group."""
    group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert outcome.ok
    [entry] = store.trash_entries()
    return entry


def test_emptying_never_follows_a_removal_folder_swapped_for_a_link(duplicates, tmp_path, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    removal = os.path.dirname(entry["trash_path"])
    victim = tmp_path / "victim"
    victim.mkdir()
    shutil.copy2(photos["photo"], victim / "photo copy.jpg")  # a kept copy with the removed file's name
    os.rename(removal, str(tmp_path / "moved away"))
    os.symlink(victim, removal)
    count, _, [outcome] = trash.empty(store)
    assert count == 0 and not outcome.ok and "not the folder shashin made" in outcome.message
    assert (victim / "photo copy.jpg").exists()
    assert [row["id"] for row in store.trash_entries()] == [entry["id"]]
    assert store.unfinished_pending() == []
    [refused] = trash.restore(store, [entry["id"]])
    assert not refused.ok and not os.path.exists(photos["photo copy"])


def test_emptying_never_follows_a_trash_swapped_for_a_link(duplicates, tmp_path, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    folder = db.parent / trash.TRASH_FOLDER
    os.rename(folder, tmp_path / "moved away")
    shutil.copytree(tmp_path / "moved away", tmp_path / "lookalike", symlinks=True)
    folder.symlink_to(tmp_path / "lookalike")
    _, _, [outcome] = trash.empty(store)
    assert not outcome.ok and "is a symbolic link" in outcome.message
    assert os.path.exists(tmp_path / "lookalike" / os.path.relpath(entry["trash_path"], folder))


def test_emptying_deletes_only_the_file_that_was_moved_there(duplicates, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    # Same name and content, another file (copied first: an unlinked file's inode number is soon given again).
    shutil.copy2(photos["photo"], entry["trash_path"] + ".new")
    os.replace(entry["trash_path"] + ".new", entry["trash_path"])
    _, _, [outcome] = trash.empty(store)
    assert not outcome.ok and "not the file shashin moved there" in outcome.message
    assert os.path.exists(entry["trash_path"])


# kill -9: wherever a removal or an emptying dies, a restart leaves every file and row in agreement.

KILLED = textwrap.dedent(
    """
    import sys
    from shashin import trash
    from shashin.store import Store
    store = Store(sys.argv[1])
    if sys.argv[2] == "keep":
        group = int(sys.argv[3])
        members = [row["path"] for row in store.review_members([group])[group]]
        print("ready", flush=True)
        trash.remove(store, group, sorted(members)[1:])
    elif sys.argv[2] == "restore":
        print("ready", flush=True)
        trash.restore_batch(store, store.last_trash_batch())
    else:
        print("ready", flush=True)
        trash.empty(store)
    """
)


def killed_midway(db, action, *args, moved):
    """Run a removal or emptying in a process and kill -9 it once ``moved()`` says it is under way."""
    process = subprocess.Popen([sys.executable, "-c", KILLED, str(db), action, *map(str, args)], stdout=subprocess.PIPE)
    assert process.stdout.readline() == b"ready\n"
    deadline = time.monotonic() + 20
    while not moved() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture
def thirty_copies(tmp_path, db):
    """A group of 30 byte-identical copies, hashed and grouped: ``(folder, group id)``."""
    folder = tmp_path / "Pictures"
    make_photo(folder / "copy00.jpg", 0, 160, 120)
    for index in range(1, 30):
        shutil.copy2(folder / "copy00.jpg", folder / "copy{:02}.jpg".format(index))
    [group] = scan(db, folder)
    (tmp_path / trash.TRASH_FOLDER).mkdir(mode=0o700)
    return folder, group["group"]


def in_trash(tmp_path):
    return [name for _, _, names in os.walk(tmp_path / trash.TRASH_FOLDER) for name in names]


def test_kill_during_keep_settles_files_journal_and_decision(tmp_path, db, thirty_copies):
    folder, group = thirty_copies
    killed_midway(db, "keep", group, moved=lambda: len(in_trash(tmp_path)) >= 5)
    with closing(Store(db)) as store:
        trash.finish_unfinished(store)
        entries = store.trash_entries()
        assert store.unfinished_trash() == [] and 5 <= len(entries) < 29
        for entry in entries:
            assert os.path.exists(entry["trash_path"]) and not os.path.exists(entry["original_path"])
        assert len(entries) + len(os.listdir(folder)) == 30 and len(in_trash(tmp_path)) == len(entries)
        [decision] = store.decisions(group)
        removed = {member["path"] for member in decision["members"] if not member["kept"]}
        assert removed == {entry["original_path"] for entry in entries}
        assert os.path.exists(folder / "copy00.jpg")


@pytest.mark.parametrize("action", ["empty", "restore"])
def test_kill_during_empty_or_restore_settles_every_row_with_its_file(tmp_path, db, thirty_copies, action):
    folder, group = thirty_copies
    with closing(Store(db)) as store:
        trash.remove(store, group, sorted(str(path) for path in folder.iterdir())[1:])
    killed_midway(db, action, moved=lambda: len(in_trash(tmp_path)) <= 24)
    with closing(Store(db)) as store:
        trash.finish_unfinished(store)
        entries = store.trash_entries()
        assert store.unfinished_pending() == [] and 0 < len(entries) <= 24
        assert sorted(os.path.basename(entry["trash_path"]) for entry in entries) == sorted(in_trash(tmp_path))
        if action == "restore":
            assert len(entries) + len(os.listdir(folder)) == 30
            [decision] = store.decisions(group)
            assert decision["undone_at"] is None


# What an adversarial review found after the first round.


def test_files_in_the_trash_are_never_hashed_nor_a_copy_that_stays(duplicates, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    # find DIR | shashin-hash: a path inside the trash is given one by one, not walked.
    result = run("shashin-hash", "--db", db, "-v", entry["trash_path"], check=0)
    assert "inside .shashin-trash, a folder scans never enter" in result.stderr and result.stdout == ""
    # As an older version hashed it: a row for the file in the trash, grouped with the last copy.
    held = os.stat(entry["trash_path"])
    store.save_hashed(
        [{"path": entry["trash_path"], "size": held.st_size, "mtime": held.st_mtime, "md5": entry["md5"]}], {}
    )
    group = forced_group(store, entry["trash_path"], photos["photo"])
    with pytest.raises(trash.Refused, match="last copy"):
        trash.remove(store, group, [photos["photo"]])
    assert os.path.exists(photos["photo"])


def test_a_copy_scanned_again_with_other_content_since_the_grouping_is_not_a_copy(duplicates, open_store):
    db, photos = duplicates
    make_photo(photos["beach"], 3)  # another photo in its place, hashed but not grouped again
    run("shashin-hash", "--db", db, "-q", photos["beach"], check=0)
    store = open_store(db)
    group = store.groups_of_paths([photos["beach"]])[photos["beach"]]
    members = store.review_members([group])[group]
    assert "beach.jpg: scanned again since it was grouped, with other content; run shashin-group again" in (
        review.warnings(members)
    )
    with pytest.raises(trash.Refused, match="last copy"):
        trash.remove(store, group, [photos["beach-small"]])
    assert os.path.exists(photos["beach-small"])


def test_restore_never_follows_a_folder_swapped_for_a_link(duplicates, tmp_path, open_store):
    db, photos = duplicates
    store = open_store(db)
    group = store.groups_of_paths([photos["backup"]])[photos["backup"]]
    batch, [outcome] = trash.remove(store, group, [photos["backup"]])
    assert outcome.ok
    backup = os.path.dirname(photos["backup"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rename(backup, tmp_path / "backup before")
    os.symlink(elsewhere, backup)
    [refused] = trash.restore_batch(store, batch)
    assert not refused.ok and "a symbolic link is in the way" in refused.message
    assert os.listdir(elsewhere) == [] and len(store.trash_entries()) == 1
    assert store.unfinished_pending() == []


def swap_after_the_check(monkeypatch, path, occupy_again):
    """Another file put in the checked file's place just after its md5 was read, as a racing user would."""
    check = trash._check_content

    def check_then_swap(located, folder_fd):
        check(located, folder_fd)
        if located.path != path:  # the copy that stays, checked first
            return
        shutil.copy2(path, path + ".other")
        os.replace(path + ".other", path)
        if occupy_again:
            monkeypatch.setattr(trash, "rename_noreplace", occupied)

    def occupied(*args, **kwargs):
        raise FileExistsError(17, "File exists")

    monkeypatch.setattr(trash, "_check_content", check_then_swap)


def test_a_file_swapped_in_after_the_check_goes_back(duplicates, open_store, monkeypatch):
    db, photos = duplicates
    store = open_store(db)
    group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
    swap_after_the_check(monkeypatch, photos["photo copy"], occupy_again=False)
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "put in its place while it was being moved; left in place" in outcome.message
    assert os.path.exists(photos["photo copy"]) and store.trash_entries() == [] and store.decisions(group) == []


def test_a_swapped_file_that_cannot_go_back_stays_journaled(duplicates, open_store, monkeypatch):
    db, photos = duplicates
    store = open_store(db)
    group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
    swap_after_the_check(monkeypatch, photos["photo copy"], occupy_again=True)
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "that file is in the trash now: restore it from there" in outcome.message
    [entry] = store.trash_entries()
    assert (entry["device"], entry["inode"]) == (
        os.stat(entry["trash_path"]).st_dev,
        os.stat(entry["trash_path"]).st_ino,
    )
    monkeypatch.undo()
    assert [restored.ok for restored in trash.restore(store, [entry["id"]])] == [True]


def test_emptying_a_trash_that_is_not_there_deletes_nothing_and_closes_nothing(duplicates, tmp_path, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    folder = db.parent / trash.TRASH_FOLDER
    os.rename(folder, tmp_path / "unmounted")  # like a disk that is not mounted
    count, _, [outcome] = trash.empty(store)
    assert count == 0 and not outcome.ok and "is not there (a disk not mounted" in outcome.message
    trash.finish_unfinished(store)
    assert [row["id"] for row in store.trash_entries()] == [entry["id"]]


def test_a_restore_cut_after_its_rename_is_settled_as_restored(duplicates, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    group = entry["group_id"]
    with store.write_lock():
        store.mark_pending(entry["id"], "restoring")
    os.rename(entry["trash_path"], photos["photo copy"])  # the crash came right after this rename
    trash.finish_unfinished(store)
    assert store.trash_entries() == [] and store.unfinished_pending() == []
    [decision] = store.decisions(group)
    assert decision["undone_at"] is not None


# A second adversarial round.


def test_copies_in_desktop_and_volume_trashes_are_never_scanned(tmp_path, db):
    photo = make_photo(tmp_path / "P" / "photo.jpg", 0)
    for trash_folder in (".Trash-1000/files", ".Trashes/501", "$RECYCLE.BIN/S-1-5-21", ".local/share/Trash/files"):
        (tmp_path / "P" / trash_folder).mkdir(parents=True)
        shutil.copy2(photo, tmp_path / "P" / trash_folder / "photo.jpg")
    assert scan(db, tmp_path / "P") == []
    given = run("shashin-hash", "--db", db, "-v", tmp_path / "P" / ".Trash-1000" / "files" / "photo.jpg", check=0)
    assert "inside .Trash-1000, a folder scans never enter" in given.stderr


def test_a_removal_folder_that_is_not_there_is_an_error_not_a_deletion(duplicates, open_store):
    db, photos = duplicates
    store = open_store(db)
    entry = removed_into_trash(store, photos)
    shutil.rmtree(os.path.dirname(entry["trash_path"]))
    count, _, [outcome] = trash.empty(store)
    assert count == 0 and not outcome.ok and "is not there" in outcome.message
    assert [row["id"] for row in store.trash_entries()] == [entry["id"]]


def test_a_move_cut_before_the_trash_folder_was_made_is_forgotten(duplicates, open_store):
    db, photos = duplicates
    store = open_store(db)
    os.rmdir(db.parent / trash.TRASH_FOLDER)
    group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
    [located] = [
        trash.locate(row) for row in store.review_members([group])[group] if row["path"] == photos["photo copy"]
    ]
    entry = {
        "original_path": located.path,
        "real_path": located.real_path,
        "device": located.device,
        "inode": located.inode,
        "trash_path": str(db.parent / trash.TRASH_FOLDER / "x" / "y"),
        "group_id": group,
        "batch": "crashed",
    }
    with store.write_lock():
        store.journal_trash(entry)
    trash.finish_unfinished(store)
    assert store.unfinished_trash() == [] and photos["photo copy"] in {
        row["path"] for row in store.review_members([group])[group]
    }


def test_a_server_starting_during_a_removal_never_leaves_a_file_without_its_row(duplicates, open_store, monkeypatch):
    db, photos = duplicates
    store, other_server = open_store(db), open_store(db)
    group = store.groups_of_paths([photos["photo copy"]])[photos["photo copy"]]
    move = trash._move

    def settled_first(*args):
        trash.finish_unfinished(other_server)
        return move(*args)

    monkeypatch.setattr(trash, "_move", settled_first)
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "called off meanwhile" in outcome.message
    assert os.path.exists(photos["photo copy"]) and store.trash_entries() == [] and store.decisions(group) == []
    assert os.listdir(db.parent / trash.TRASH_FOLDER) == []
