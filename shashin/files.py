"""Files: walking folders the way a photo scan should, moving without replacing."""

import contextlib
import ctypes
import errno
import os
import re
import stat
from typing import NamedTuple

#: Folders never walked: NAS thumbnails, recycle bins and snapshots, desktop trashes (macOS, Windows,
#: freedesktop's .Trash and .Trash-UID on a volume, ~/.local/share/Trash), and shashin's own trash.
#: A copy in one of them is on its way out: it never counts as a copy that stays.
SKIPPED_FOLDERS = frozenset(
    {"@eaDir", "#snapshot", "#recycle", "@Recycle", "@Recently-Snapshot", ".shashin-trash", ".Trashes", ".Trash"}
    | {"$RECYCLE.BIN", "RECYCLER"}
)
_USER_TRASH = re.compile(r"\.Trash-\d+")


def _skipped_at(parts, index):
    name = parts[index]
    desktop_trash = name == "Trash" and parts[index - 2 : index] == [".local", "share"]
    return name in SKIPPED_FOLDERS or _USER_TRASH.fullmatch(name) is not None or desktop_trash


def is_skipped_folder(path):
    """Whether scans never enter this folder (see :data:`SKIPPED_FOLDERS`)."""
    return _skipped_at(path.split(os.sep), -1)


def skipped_folder_of(path):
    """The first folder on a path that scans never enter (shashin's trash, a recycle bin), or None.

    Paths given one by one (``find | shashin-hash``) are not walked, so this is asked of each.
    """
    parts = path.split(os.sep)
    return next((parts[index] for index in range(len(parts) - 1) if _skipped_at(parts, index)), None)


def error_text(error):
    """An error as a person reads it: an OSError as "no such file or directory", "permission denied"."""
    if not isinstance(error, OSError):
        return str(error)
    if error.errno == errno.ELOOP:
        return "a symbolic link is in the way (links are never followed)"
    if error.errno == errno.EPERM:
        return "permission denied"
    return (error.strerror or str(error)).lower()


def unchanged_since_scan(row, status):
    """Whether a file is still the one a row (images, failures) recorded: same size and mtime, and the
    same device and inode where the row has them, since another file put in its place may match both."""
    same_file = row.get("inode") is None or (row["device"], row["inode"]) == (status.st_dev, status.st_ino)
    return same_file and row["size"] == status.st_size and row["mtime"] == status.st_mtime


class Problem(NamedTuple):
    """Why a path found while walking is not hashed: skipped on purpose, or an error."""

    message: str
    skipped: bool


SYMLINK = Problem("symbolic link (links are never followed)", skipped=True)
# Opening a FIFO waits for a writer for ever; a device may never end.
NOT_REGULAR = Problem("not a regular file (a FIFO, socket or device)", skipped=True)


def expand(path):
    """Yield ``(path, problem)`` for a path: itself, or every file below a folder.

    problem is None for a regular file. Symbolic links are never followed or hashed:
    a link and its target would look like two copies, and removing the "copy" that is
    the target would lose the photo. Folders are walked depth first in name order,
    with a stack rather than recursion, however deep they nest.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError as error:
        yield path, Problem(error_text(error), skipped=False)
        return
    if not stat.S_ISDIR(mode):
        yield path, None if stat.S_ISREG(mode) else SYMLINK if stat.S_ISLNK(mode) else NOT_REGULAR
        return
    folders = [path]
    while folders:
        folder = folders.pop()
        try:
            subfolders, found = folder_contents(folder)
        except OSError as error:
            yield folder, Problem(error_text(error), skipped=False)
            continue
        yield from found
        folders.extend(reversed(subfolders))


def folder_contents(folder):
    """What one folder holds, in name order: ``(subfolders to walk, [(file path, problem)])``.

    Raises OSError when the folder cannot be read.
    """
    subfolders, found = [], []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda entry: entry.name):
            try:
                if entry.is_symlink():
                    found.append((entry.path, SYMLINK))
                elif entry.is_dir(follow_symlinks=False):
                    if not is_skipped_folder(entry.path):
                        subfolders.append(entry.path)
                else:
                    found.append((entry.path, None if entry.is_file(follow_symlinks=False) else NOT_REGULAR))
            except OSError as error:
                found.append((entry.path, Problem(error_text(error), skipped=False)))
    return subfolders, found


_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def rename_noreplace(src, dest, src_dir_fd=None, dest_dir_fd=None):
    """Rename atomically, failing with FileExistsError rather than replacing dest.

    With ``src_dir_fd`` (``dest_dir_fd``), src (dest) is a name in that open folder, which
    no link swapped in on the way can redirect.
    """
    if _renameat2 is not None:
        src_folder = _AT_FDCWD if src_dir_fd is None else src_dir_fd
        dest_folder = _AT_FDCWD if dest_dir_fd is None else dest_dir_fd
        if _renameat2(src_folder, os.fsencode(src), dest_folder, os.fsencode(dest), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), src, None, dest)
    try:
        # A file system without RENAME_NOREPLACE: a hard link cannot replace a file either.
        os.link(src, dest, src_dir_fd=src_dir_fd, dst_dir_fd=dest_dir_fd, follow_symlinks=False)
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
            raise
        # Nor hard links (FAT, some FUSE): check, then rename.
        if _exists(dest, dest_dir_fd):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dest) from None
        os.rename(src, dest, src_dir_fd=src_dir_fd, dst_dir_fd=dest_dir_fd)
        return
    os.unlink(src, dir_fd=src_dir_fd)


def _exists(name, dir_fd):
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


#: Folders are opened only to walk through them: O_PATH needs search permission alone (a 0711 home).
FOLDER_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: O_NONBLOCK: a FIFO put where a photo was must not hang the open.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_folder_no_follow(path, create=False):
    """Open a folder (O_PATH: to act on names in it) without following a symbolic link anywhere on its path.

    Each folder from ``/`` down is opened relative to the one above it with O_NOFOLLOW, so a
    folder swapped for a link, even while this runs, makes the open fail (ELOOP or ENOTDIR)
    instead of reaching the link's target. With ``create``, missing folders are made on the
    way, as os.makedirs would. Returns the descriptor; the caller closes it.
    """
    folder = os.open(b"/", FOLDER_FLAGS)
    try:
        for part in os.fsencode(os.path.abspath(path)).split(b"/"):
            if not part:
                continue
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=folder)
            try:
                child = os.open(part, FOLDER_FLAGS, dir_fd=folder)
            except NotADirectoryError:
                # O_DIRECTORY answers ENOTDIR before O_NOFOLLOW's ELOOP: say which it is.
                if stat.S_ISLNK(os.stat(part, dir_fd=folder, follow_symlinks=False).st_mode):
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path) from None
                raise
            os.close(folder)
            folder = child
    except BaseException:
        os.close(folder)
        raise
    return folder


@contextlib.contextmanager
def folder_no_follow(path, create=False):
    """:func:`open_folder_no_follow` as a context: the descriptor, closed after."""
    folder = open_folder_no_follow(path, create)
    try:
        yield folder
    finally:
        os.close(folder)


def open_no_follow(path, dir_fd=None):
    """Open a regular file for reading (binary) without following a symbolic link anywhere on its path.

    Through :func:`open_folder_no_follow`, or by name in the open folder ``dir_fd``; what is
    read is what the returned descriptor was checked to be. Raises OSError for a link (ELOOP
    or ENOTDIR), anything missing, or something not a regular file.
    """
    if dir_fd is None:
        folder, name = os.path.split(os.path.abspath(path))
        with folder_no_follow(folder) as dir_fd:
            descriptor = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    else:
        descriptor = os.open(path, FILE_FLAGS, dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file", path)
    return open(descriptor, "rb")
