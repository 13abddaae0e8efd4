"""Removing copies safely: into a private trash on the same filesystem, journaled first, restorable.

A removed file is renamed into a ``.shashin-trash`` folder on its own filesystem: the
nearest one found going up from the file, else a new one at the top of the file's
tree (the highest folder above it on the same filesystem that this user may write
and that is not shared with everybody, like ``/tmp``). A rename never copies, never
crosses a filesystem and leaves the bytes and mtime as they were.

Every check rests on what cannot lie, read at the moment of acting: a file is its
device and inode (two paths to one file are never two copies of it), its content is
the md5 read now (not its size and mtime), and a trash folder is used only when this
user owns it and nobody else may enter it (mode 0700). Inside the trash nothing is
reached through a path: each folder is opened without following links and the next
name is looked up in the open folder. Nothing is unlinked until :func:`empty` is called.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .captures import SERIES
from .files import (
    FOLDER_FLAGS,
    error_text,
    folder_no_follow,
    open_no_follow,
    rename_noreplace,
    skipped_folder_of,
    unchanged_since_scan,
)

if TYPE_CHECKING:
    from .store import Store

TRASH_FOLDER = ".shashin-trash"


class Result(NamedTuple):
    """What happened to one file: ``ok`` and a message for a person."""

    path: str
    ok: bool
    message: str
    entry_id: int | None = None


class Refused(Exception):
    """A removal that would be unsafe as a whole (the last copy); nothing was moved."""


class Unsafe(Exception):
    """A file or trash folder that is not what the journal or the scan says; nothing is done to it."""


class Swapped(Unsafe):
    """The file moved into the trash was not the one checked, and could not be put back: ``identity`` is what moved."""

    def __init__(self, message, identity):
        super().__init__(message)
        self.identity = identity


class Located(NamedTuple):
    """A group member as it is on disk now: the path given, the path with no link on the way, its identity."""

    path: str
    real_path: str
    device: int
    inode: int
    md5: str

    @property
    def identity(self):
        return self.device, self.inode


def trash_folder(path: str) -> str:
    """The trash folder for a file: nearest existing ``.shashin-trash`` above it, else the top of its tree."""
    current = os.path.dirname(os.path.abspath(path))
    device = os.stat(current).st_dev
    while True:
        candidate = os.path.join(current, TRASH_FOLDER)
        if os.path.lexists(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current or not _may_hold_trash(parent, device):
            return candidate
        current = parent


def _may_hold_trash(folder, device):
    try:
        info = os.stat(folder)
    except OSError:
        return False
    shared = info.st_mode & stat.S_IWOTH
    return info.st_dev == device and not shared and os.access(folder, os.W_OK | os.X_OK)


def remove(
    store: Store, group_id: int, paths: Iterable[str], source: str = "ui", batch: str | None = None
) -> tuple[str, list[Result]]:
    """Move these members of a group to the trash, keeping the rest; record the decision.

    Refuses as a whole (:class:`Refused`) unless another member stays: a different
    file (device and inode) whose md5, read now, is the one scanned. A path that is the
    same file as a member that stays is left alone. Each file's md5 is read again just
    before it moves; a file that changed or cannot move is left where it is, with a
    message. The journal rows and the decision are written together before anything
    moves, so :func:`finish_unfinished` settles both after a crash. Returns
    ``(batch, [Result])``; :func:`restore_batch` undoes the batch. Give ``batch`` to
    make several groups' removals one (accepting suggestions), else it is new.
    """
    batch = batch or new_batch()
    wanted = list(dict.fromkeys(paths))
    # The write lock makes the checks, the journal and the decision one step: two requests
    # racing for the last copies of a group are served one after the other.
    with store.write_lock():
        members = {row["path"]: row for row in store.review_members([group_id])[group_id]}
        strangers = [path for path in wanted if path not in members]
        if strangers:
            raise Refused("{}: not in group {}, or already in the trash".format(strangers[0], group_id))
        moving, outcomes = _plan(members, wanted, group_id)
        journaled = []
        for located in moving:
            try:
                trash = trash_folder(located.real_path)
            except OSError as error:
                outcomes.append(_not_removed(located.path, error_text(error)))
                continue
            target = os.path.join(trash, uuid.uuid4().hex[:16], os.path.basename(located.real_path))
            row = members[located.path]
            entry = {
                "original_path": located.path,
                "real_path": located.real_path,
                "device": located.device,
                "inode": located.inode,
                "trash_path": target,
                "md5": located.md5,
                "size": row["size"],
                "mtime": row["mtime"],
                "group_id": group_id,
                "batch": batch,
            }
            journaled.append((store.journal_trash(entry), located, target))
        if journaled:
            leaving = {located.path for _, located, _ in journaled}
            rows = store.images_by_path(members)
            decided = [
                (rows.get(path, {"path": path, "md5": row["md5"]}), path not in leaving)
                for path, row in members.items()
            ]
            # In a series (different shots) a person picks the best photo, not the copy to keep: ranking,
            # which learns from "keep", leaves it out.
            series = store.review_groups([group_id]).get(group_id, {}).get("kind") == SERIES
            store.record_decision(group_id, "pick" if series else "keep", decided, source, batch)
    moves = [_move(store, entry_id, located, target) for entry_id, located, target in journaled]
    stayed = [outcome.path for outcome in moves if not outcome.ok]
    if stayed:
        with store.write_lock():
            store.keep_in_decision(batch, group_id, stayed)
    return batch, outcomes + moves


def _plan(members, wanted, group_id):
    """``([Located] to move, [Result] of paths left alone)``; :class:`Refused` when no copy would stay."""
    located, problems = {}, {}
    for path, row in members.items():
        try:
            located[path] = locate(row)
        except Unsafe as problem:
            problems[path] = str(problem)
    staying = [path for path in members if path not in wanted and path in located]
    files_staying = {located[path].identity: path for path in staying}
    moving, outcomes, moving_files = [], [], {}
    for path in wanted:
        if path in problems:
            outcomes.append(_not_removed(path, problems[path]))
            continue
        identity = located[path].identity
        twin = files_staying.get(identity) or moving_files.get(identity)
        if twin:
            outcomes.append(
                _not_removed(path, "it is the same file as {} (one file, two paths), not a copy".format(twin))
            )
            continue
        moving_files[identity] = path
        moving.append(located[path])
    if moving and not any(
        identity not in moving_files and _verified(located[path]) for identity, path in files_staying.items()
    ):
        raise Refused(
            "refused: no other copy in group {} would stay in place unchanged (a different file whose md5"
            " is still the one scanned); shashin never removes the last copy".format(group_id)
        )
    return moving, outcomes


def locate(row: Mapping[str, Any]) -> Located:
    """The member of a group as it is now, if it is still the file grouped; else :class:`Unsafe`.

    ``row`` is a :meth:`Store.review_members` row: the images row, and the md5 it was grouped with.
    """
    path = row["path"]
    if _regrouping_due(row):
        raise Unsafe(REGROUP)
    folder, name = os.path.split(os.path.abspath(path))
    try:
        real_path = os.path.join(os.path.realpath(folder), name)
    except OSError as error:
        raise Unsafe("its folders changed while being looked at ({}); try again".format(error_text(error))) from None
    try:
        info = os.lstat(real_path)
    except FileNotFoundError:
        raise Unsafe("no longer on disk") from None
    except OSError as error:
        raise Unsafe(error_text(error)) from None
    if row.get("real_path") and real_path != row["real_path"]:
        raise Unsafe(
            "its path leads to {} now, not to {} as scanned; scan it again".format(real_path, row["real_path"])
        )
    skipped = skipped_folder_of(real_path)
    if skipped:
        raise Unsafe("it is inside {}, a folder scans never enter: not a copy that counts".format(skipped))
    if not stat.S_ISREG(info.st_mode):
        raise Unsafe("no longer a regular file")
    if row.get("inode") is not None and (info.st_dev, info.st_ino) != (row["device"], row["inode"]):
        raise Unsafe("another file is at this path now (not the one scanned); scan it again")
    return Located(path, real_path, info.st_dev, info.st_ino, row["md5"])


REGROUP = "scanned again since it was grouped, with other content; run shashin-group again"


def _regrouping_due(row):
    return row.get("md5") is None or row["md5"] != row.get("group_md5", row["md5"])


def _verified(located):
    try:
        with folder_no_follow(os.path.dirname(located.real_path)) as folder_fd:
            _check_content(located, folder_fd)
    except (Unsafe, OSError):
        return False
    return True


def _check_content(located, folder_fd):
    """Unsafe unless the file of that name in the open folder is still this file, with the md5 it was grouped with."""
    try:
        with open_no_follow(os.path.basename(located.real_path), dir_fd=folder_fd) as handle:
            info = os.fstat(handle.fileno())
            if (info.st_dev, info.st_ino) != located.identity:
                raise Unsafe("another file is at this path now (not the one scanned); scan it again")
            md5 = hashlib.file_digest(handle, "md5").hexdigest()
    except OSError as error:
        raise Unsafe(error_text(error)) from None
    if md5 != located.md5:
        raise Unsafe("changed since it was scanned (its md5 is not the one scanned); scan it again")


def new_batch() -> str:
    """An id for one removal: what :func:`restore_batch` undoes together."""
    return uuid.uuid4().hex


def finish_unfinished(store: Store) -> int:
    """Settle what a crash interrupted, from what is on disk; returns how many files.

    A move journaled but not completed is forgotten (and its member kept in the
    decision) when the file is still at home, or when the trash is there without it;
    it is completed when the file is in the trash. A deletion or a restore under way
    is completed when the file has gone from the trash (to where it was, for a
    restore), else called off. A row whose trash folder cannot be seen (a disk not
    mounted, another disk there) waits for a later start. Safe while another process
    removes: each move is made under the write lock, only while its row is still open
    (the review server runs this at start).
    """
    unfinished, pending = store.unfinished_trash(), store.unfinished_pending()
    with store.write_lock():
        stayed: dict[tuple[str, int], list[str]] = {}
        for entry in unfinished:
            trash_there = _trash_folder_there(entry)
            if _at_home(entry) or trash_there and not os.path.lexists(entry["trash_path"]):
                store.forget_trash(entry["id"])
                stayed.setdefault((entry["batch"], entry["group_id"]), []).append(entry["original_path"])
            elif trash_there and not os.path.lexists(_home(entry)):
                store.complete_trash(entry["id"])
        for (batch, group_id), paths in stayed.items():
            store.keep_in_decision(batch, group_id, paths)
        for entry in pending:
            if not _trash_folder_there(entry):
                continue
            if os.path.lexists(entry["trash_path"]):
                store.cancel_pending(entry["id"])
            elif entry["pending"] == "emptying":
                store.mark_emptied(entry["id"])
            elif _at_home(entry):
                _settle_restored(store, entry)
            else:
                store.cancel_pending(entry["id"])
    return len(unfinished) + len(pending)


def _home(entry):
    """Where a file in the trash came from, and goes back to: its real path, even if a link on the way changed."""
    return entry["real_path"] or entry["original_path"]


def _trash_folder_there(entry):
    """The trash folder of a row is there, on the disk the file was moved on (not a bare mount point)."""
    try:
        info = os.stat(os.path.dirname(os.path.dirname(entry["trash_path"])))
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and entry["device"] in (None, info.st_dev)


def _at_home(entry):
    try:
        info = os.lstat(_home(entry))
    except OSError:
        return False
    return entry["inode"] is None or (info.st_dev, info.st_ino) == (entry["device"], entry["inode"])


def not_as_scanned(row: Mapping[str, Any]) -> str | None:
    """None when the file of an images row is on disk as scanned (:func:`files.unchanged_since_scan`), else why not.

    A quick look for the review page's warnings; removal itself reads the md5 (:func:`locate`).
    """
    if _regrouping_due(row):
        return REGROUP
    try:
        info = os.stat(row["path"], follow_symlinks=False)
    except FileNotFoundError:
        return "no longer on disk"
    except OSError as error:
        return error_text(error)
    if not stat.S_ISREG(info.st_mode):
        return "no longer a regular file"
    if not unchanged_since_scan(row, info):
        return "changed since it was scanned (another file, or its size or modification time); scan it again first"
    return None


def _move(store, entry_id, located, target):
    removal, name = os.path.split(target)
    trash = os.path.dirname(removal)
    swapped = None
    # Under the write lock: a server starting meanwhile (finish_unfinished) cannot settle a
    # move half done, and a move it settled (called off) is not made after all.
    with store.write_lock():
        if not store.trash_move_open(entry_id):
            return _not_removed(located.path, "its move was called off meanwhile (another server settled it)")
        try:
            _move_into(located, trash, os.path.basename(removal), name)
            problem = None
        except Swapped as error:
            problem, swapped = str(error), error.identity
        except Unsafe as unsafe:
            problem = str(unsafe)
        except OSError as error:
            problem = "cannot move it from its folder into {}: {}".format(trash, error_text(error))
        if swapped:
            # Whatever was moved stays journaled, so it can be restored from the trash.
            store.complete_trash(entry_id, *swapped)
        elif problem:
            store.forget_trash(entry_id)
        else:
            store.complete_trash(entry_id)
    if problem:
        return _not_removed(located.path, problem)
    return Result(located.path, True, "{}: moved to {}".format(located.path, target), entry_id)


def _move_into(located, trash, removal, name):
    # Checked and moved by its name in its folder, opened through no link: a folder on the
    # way swapped for a link after the check cannot send the rename to another file.
    folder, source = os.path.split(located.real_path)
    with _private_trash(trash, create=True) as trash_fd, folder_no_follow(folder) as folder_fd:
        if os.fstat(trash_fd).st_dev != located.device:
            raise OSError(errno.EXDEV, "it is on another filesystem")
        os.mkdir(removal, 0o700, dir_fd=trash_fd)
        try:
            with _opened(removal, FOLDER_FLAGS, trash_fd) as removal_fd:
                _check_content(located, folder_fd)
                os.rename(source, name, src_dir_fd=folder_fd, dst_dir_fd=removal_fd)
                moved = os.stat(name, dir_fd=removal_fd, follow_symlinks=False)
                if (moved.st_dev, moved.st_ino) != located.identity:
                    _put_back(removal_fd, name, folder_fd, source, moved)
        except BaseException:
            _remove_empty(removal, trash_fd)
            raise


def _put_back(removal_fd, name, folder_fd, source, moved):
    """Another file was put in the checked one's place between the check and the rename: it goes back."""
    try:
        rename_noreplace(name, source, src_dir_fd=removal_fd, dest_dir_fd=folder_fd)
    except OSError:
        raise Swapped(
            "another file was put in its place while it was being moved; that file is in the trash now:"
            " restore it from there",
            (moved.st_dev, moved.st_ino),
        ) from None
    raise Unsafe("another file was put in its place while it was being moved; left in place")


@contextlib.contextmanager
def _opened(path, flags, dir_fd=None):
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _private_trash(trash, create=False):
    """The trash folder, open, once it is known to be this user's alone; else :class:`Unsafe`.

    Reached through no symbolic link: a folder on the way swapped for one cannot send a move elsewhere.
    """
    parent, name = os.path.split(trash)
    try:
        with folder_no_follow(parent) as parent_fd:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=parent_fd)
            fd = os.open(name, FOLDER_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        raise Unsafe("{} is not there (a disk not mounted, or the folder moved?)".format(trash)) from None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Unsafe(
                "{} is a symbolic link or a file; shashin never follows a link to a trash".format(trash)
            ) from None
        raise
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise Unsafe(
                "{} belongs to another user (uid {}), who could read or swap what is moved there;"
                " shashin uses only a trash of its own: remove that folder".format(trash, info.st_uid)
            )
        if info.st_mode & 0o077:
            raise Unsafe(
                "{} is open to other users (mode {:o}); make it private (chmod 700) or remove it".format(
                    trash, stat.S_IMODE(info.st_mode)
                )
            )
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _held(entry):
    """``(removal_fd, name, stat)`` of a file in the trash, once it is the very file the journal moved there."""
    removal, name = os.path.split(entry["trash_path"])
    trash = os.path.dirname(removal)
    with _private_trash(trash) as trash_fd:
        if entry["device"] is not None and os.fstat(trash_fd).st_dev != entry["device"]:
            raise Unsafe("{} is on another disk than the file was moved on (another disk mounted there?)".format(trash))
        try:
            removal_fd = os.open(os.path.basename(removal), FOLDER_FLAGS, dir_fd=trash_fd)
        except FileNotFoundError:
            raise Unsafe("{} is not there (removed by hand?); nothing done".format(removal)) from None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Unsafe("{} is not the folder shashin made (a link was put there)".format(removal)) from None
            raise
        try:
            info = os.stat(name, dir_fd=removal_fd, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or not _is_journaled_file(entry, info, name, removal_fd):
                raise Unsafe("{} is not the file shashin moved there; left alone".format(entry["trash_path"]))
            yield removal_fd, name, info
        finally:
            os.close(removal_fd)
        _remove_empty(os.path.basename(removal), trash_fd)


def _is_journaled_file(entry, info, name, removal_fd):
    if entry["inode"] is not None:
        return (info.st_dev, info.st_ino) == (entry["device"], entry["inode"])
    # Journaled before shashin recorded identities: the content decides.
    with open_no_follow(name, dir_fd=removal_fd) as handle:
        return hashlib.file_digest(handle, "md5").hexdigest() == entry["md5"]


def _remove_empty(folder, dir_fd=None):
    try:
        os.rmdir(folder, dir_fd=dir_fd)
    except OSError:
        pass


def _not_removed(path, reason):
    return Result(path, False, "{}: not removed: {}".format(path, reason))


def restore(store: Store, entry_ids: Iterable[int]) -> list[Result]:
    """Move files back from the trash to where they were. Returns ``[Result]``.

    Never overwrites: a file now at the original path makes the restore refuse. The
    folders on the way back are walked through no symbolic link (and made again if
    they are gone), so a folder swapped for a link cannot send the photo elsewhere.
    """
    outcomes = []
    for entry_id in entry_ids:
        with store.write_lock():
            found = store.trash_entries([entry_id])
            if found and not found[0]["pending"]:
                store.mark_pending(entry_id, "restoring")
        if not found or found[0]["pending"]:
            outcomes.append(Result(str(entry_id), False, "trash entry {}: not in the trash".format(entry_id)))
            continue
        entry = found[0]
        outcome = _restore(entry)
        with store.write_lock():
            if outcome.ok:
                _settle_restored(store, entry)
            else:
                store.cancel_pending(entry_id)
        outcomes.append(outcome)
    return outcomes


def _settle_restored(store, entry):
    store.mark_restored(entry["id"])
    # A group whose removed files are all back is undecided again, even when
    # other groups of the same batch (accepted suggestions) stay removed.
    if not store.trash_batch(entry["batch"], entry["group_id"]):
        store.undo_decisions(entry["batch"], entry["group_id"])


def restore_batch(store: Store, batch: str) -> list[Result]:
    """Restore every file of one removal (undo)."""
    return restore(store, store.trash_batch(batch))


def _restore(entry):
    original = entry["original_path"]
    folder, name_back = os.path.split(_home(entry))
    try:
        with _held(entry) as (removal_fd, name, _), folder_no_follow(folder, create=True) as folder_fd:
            rename_noreplace(name, name_back, src_dir_fd=removal_fd, dest_dir_fd=folder_fd)
    except Unsafe as unsafe:
        return Result(original, False, "{}: not restored: {}".format(original, unsafe), entry["id"])
    except OSError as error:
        if error.errno == errno.EEXIST:
            reason = "a file is there now; not overwriting it"
        else:
            reason = error_text(error)
        return Result(original, False, "{}: not restored: {}".format(original, reason), entry["id"])
    return Result(original, True, "{}: restored".format(original), entry["id"])


def empty(store: Store) -> tuple[int, int, list[Result]]:
    """Unlink every file in the trash. Returns ``(files, bytes_freed, [Result])``.

    Only the very file each journal row moved there is unlinked (its device and
    inode); the row says so before the unlink and is closed after, so a crash in
    between is settled by :func:`finish_unfinished`.
    """
    count, freed, outcomes = 0, 0, []
    for entry_id in [entry["id"] for entry in store.trash_entries()]:
        with store.write_lock():
            found = store.trash_entries([entry_id])
            if not found or found[0]["pending"]:
                continue  # restored or emptied meanwhile, or being restored
            entry = found[0]
            store.mark_pending(entry_id, "emptying")
        held = entry["trash_path"]
        try:
            size = _unlink_held(entry)
        except (Unsafe, OSError) as error:
            with store.write_lock():
                store.cancel_pending(entry_id)
            reason = error_text(error)
            outcomes.append(Result(held, False, "{}: not deleted: {}".format(held, reason), entry_id))
            continue
        with store.write_lock():
            store.mark_emptied(entry_id)
        count += 1
        freed += size
        outcomes.append(Result(held, True, "{}: deleted".format(held), entry_id))
    return count, freed, outcomes


def _unlink_held(entry):
    """Bytes freed by unlinking a file of the trash (0 when it is gone already)."""
    try:
        with _held(entry) as (removal_fd, name, info):
            os.unlink(name, dir_fd=removal_fd)
            return info.st_size
    except FileNotFoundError:
        return 0


def human_size(size: float) -> str:
    """Bytes for a person: 1.2 MB."""
    if size < 1000:
        return "{} bytes".format(size)
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 1000:
            return "{:.1f} {}".format(size, unit)
    return "{:.1f} TB".format(size / 1000)
