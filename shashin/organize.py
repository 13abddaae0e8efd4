"""Organizing photos into dated folders: plan (what goes where) and apply (safe file operations, journalled).

Planning reads but never changes anything: files are gathered folder by folder,
dated from the database or exiftool, grouped with their companions (sidecars,
Live Photo videos, the other half of a RAW+JPEG pair) and given destinations that
never overwrite. Applying writes each batch to the journal first, then acts, then
records the outcome together with the database rows that follow the files, so an
interrupted run can always be finished (:func:`recover`) or reversed (:func:`undo_plan`).
"""

import contextlib
import datetime
import errno
import fcntl
import hashlib
import itertools
import os
import shutil
import string
from dataclasses import dataclass

from . import exif
from .files import (
    IMAGE_EXTENSIONS,
    RAW_EXTENSIONS,
    expand,
    extension,
    folder_contents,
    is_image,
    os_error_text,
    rename_noreplace,
)

VIDEO_EXTENSIONS = frozenset(
    ".mov .mp4 .m4v .3gp .3g2 .avi .mts .m2ts .mkv .webm .wmv .mpg .mpeg .insv .lrv".split()
)
SIDECAR_EXTENSIONS = frozenset({".xmp", ".aae"})
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
DEFAULT_PATTERN = "{taken:%Y}/{taken:%m}/{taken:%d}"
DEFAULT_UNDATED = "undated"
FIELDS = ("taken", "make", "model", "name", "ext")
TEMP_PREFIX = ".shashin-organize-"
BATCH = 1000  # files per journal transaction: each commit is an fsync
MTIME_SOURCE = "FileModifyDate"
INTERRUPTED = "interrupted before it happened"

COPY, MOVE, SKIP, REMOVE = "copy", "move", "skip", "remove"
_KINDS = ("raw", "image", "video")  # a unit's date comes from the first of these that has one


class OrganizeError(Exception):
    """A file operation refused for safety; the message says why."""


@dataclass
class Options:
    dest: str
    move: bool = False
    pattern: str = DEFAULT_PATTERN
    rename: str = None
    undated: str = DEFAULT_UNDATED
    mtime_fallback: bool = False


@dataclass(eq=False, slots=True)
class File:
    """A file to place: where it is, what the database knows of its content, and when it was taken."""

    path: str
    size: int
    mtime: float
    md5: str = None
    taken: datetime.datetime = None  # wall-clock time where it was taken
    source: str = None  # which tag the date came from
    make: str = None
    model: str = None


@dataclass(eq=False, slots=True)
class Action:
    """One step of a plan; ``record()`` is the JSON line printed for it."""

    action: str
    src: str
    dest: str = None
    reason: str = None
    size: int = None
    mtime: float = None
    md5: str = None
    failed: bool = False
    twin: str = None  # remove only: the identical file that must remain
    journal: int = None  # journal entry id, once written
    undoes: int = None  # journal entry this action reverses
    copied_mtime: float = None  # mtime of a written copy, where the file system rounds it

    def record(self):
        return {"action": self.action, "src": self.src, "dest": self.dest, "reason": self.reason}


def failure(path, message, dest=None):
    return Action(SKIP, path, dest, message, failed=True)


# Patterns


def check_options(options):
    """Raise ValueError with a helpful message when a pattern cannot work."""
    sample = dict(
        taken=datetime.datetime(2001, 2, 3, 4, 5, 6), make="Make", model="Model", name="IMG_0001", ext=".jpg"
    )
    for option, pattern in (("--pattern", options.pattern), ("--rename", options.rename)):
        if pattern is None:
            continue
        for _, field, _, _ in string.Formatter().parse(pattern):
            if field is not None and field not in FIELDS:
                raise ValueError(
                    "{}: unknown field {{{}}}; fields are {}".format(
                        option, field, ", ".join("{%s}" % f for f in FIELDS)
                    )
                )
        try:
            pattern.format(**sample)
        except (ValueError, IndexError) as error:
            raise ValueError("{}: {}".format(option, error))
    if options.rename is not None:
        if "{ext}" not in options.rename:
            raise ValueError("--rename must contain {ext}, so files keep their extension")
        if os.sep in options.rename:
            raise ValueError("--rename makes a file name; put folders in --pattern")
    for option, folder in (("--pattern", options.pattern), ("--undated", options.undated)):
        if os.path.isabs(folder) or ".." in folder.split(os.sep):
            raise ValueError("{} must stay inside DEST (no leading / or ..)".format(option))


def _clean(value, default="unknown"):
    """A tag value fit for a file or folder name."""
    text = " ".join(str(value or "").replace(os.sep, "_").replace("\0", "").split()).lstrip(".")
    return text or default


def _relative(folder):
    parts = [part for part in os.path.normpath(folder).split(os.sep) if part not in ("", ".", "..")]
    return os.path.join(*parts) if parts else ""


# Dates


def capture_time(taken_at, source, tags=None):
    """The wall-clock capture time from a normalised ``taken_at``, or None without one.

    A QuickTime CreateDate is UTC: it is turned into this computer's local time. (Apple's
    ``CreationDate``, which ranks before it, already carries the local time and its offset.)
    """
    if not taken_at:
        return None
    try:
        moment = datetime.datetime.fromisoformat(taken_at)
        if tags and _from_quicktime(source, tags):
            moment = moment.astimezone()
    except (ValueError, OverflowError, OSError):
        return None  # a date out of any calendar this computer can convert
    return moment.replace(tzinfo=None)


def _from_quicktime(source, tags):
    # Of the tags named CreateDate, EXIF's ranks before QuickTime's and XMP's after (exif.DATE_SOURCES).
    return source == "CreateDate" and "QuickTime:CreateDate" in tags and "EXIF:CreateDate" not in tags


def date_file(file, taken_at, source, tags, mtime_fallback):
    """Set the capture time of a File from normalised fields; the file's mtime only as a fallback."""
    if source != MTIME_SOURCE:
        file.taken = capture_time(taken_at, source, tags)
        file.source = source if file.taken else None
    if file.taken is None and mtime_fallback:
        try:
            file.taken = datetime.datetime.fromtimestamp(file.mtime)
            file.source = MTIME_SOURCE
        except (ValueError, OverflowError, OSError):
            pass


# Gathering and dating


def split_name(name):
    """``(stem, ext)``; a sidecar named after its photo's full name (IMG_1.CR2.xmp) keeps both extensions."""
    stem, ext = os.path.splitext(name)
    if ext.lower() in SIDECAR_EXTENSIONS:
        inner, inner_ext = os.path.splitext(stem)
        if inner_ext.lower() in MEDIA_EXTENSIONS:
            return inner, inner_ext + ext
    return stem, ext


def kind(path):
    if os.path.basename(path).startswith("._"):
        return None  # AppleDouble metadata left by macOS on other file systems, not a photo
    ext = extension(path)
    if ext in RAW_EXTENSIONS:
        return "raw"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    if ext in SIDECAR_EXTENSIONS:
        return "sidecar"
    try:
        with open(path, "rb") as handle:
            return "image" if is_image(path, handle.read(16)) else None
    except OSError:
        return None


def gather(paths, dest):
    """Yield ``(files, problems)`` folder by folder: absolute paths of regular files to place, and skip actions.

    A file given by name brings its companions from its folder. A destination
    inside a source is not gathered (a source inside the destination is), nor a
    temporary file of an interrupted run. Links, FIFOs and devices are skipped.
    """
    dest = os.path.join(os.path.abspath(dest), "")
    named = {}
    for path in map(os.path.abspath, paths):
        if os.path.isdir(path) and not os.path.islink(path):
            inside = dest.startswith(os.path.join(path, "")) and dest != os.path.join(path, "")
            for folder, items in itertools.groupby(expand(path), key=lambda item: os.path.dirname(item[0])):
                files, problems = [], []
                for found, problem in items:
                    if inside and found.startswith(dest) or os.path.basename(found).startswith(TEMP_PREFIX):
                        continue
                    if problem is None:
                        files.append(found)
                    else:
                        problems.append(_skipped(found, problem))
                yield files, problems
        else:
            named.setdefault(os.path.dirname(path), []).append(path)
    for folder, files in named.items():
        yield _with_companions(folder, files)


def _with_companions(folder, files):
    wanted, problems = {}, []
    for found, problem in itertools.chain.from_iterable(map(expand, files)):
        if problem is None:
            wanted[found] = None
        else:
            problems.append(_skipped(found, problem))
    keys = {split_name(os.path.basename(path))[0].casefold() for path in wanted}
    try:
        _, contents = folder_contents(folder)
    except OSError:
        contents = []
    for path, problem in contents:
        if problem is None and path not in wanted and split_name(os.path.basename(path))[0].casefold() in keys:
            wanted[path] = None
    return list(wanted), problems


def _skipped(path, problem):
    return Action(SKIP, path, None, problem.message, failed=not problem.skipped)


def describe(paths, store, session, mtime_fallback=False):
    """``(files, problems)``: a File for each path, dated from the database when it knows the file unchanged.

    Other photos and videos are read with exiftool (``session``), with the same
    date priority as shashin-meta; sidecars need no date.
    """
    rows = store.organize_sources(paths) if store else {}
    files, problems, unread = [], [], []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError as error:
            problems.append(failure(path, describe_error(error)))
            continue
        file = File(path, stat.st_size, stat.st_mtime)
        row = rows.get(path)
        unchanged = row is not None and (row["size"], row["mtime"]) == (stat.st_size, stat.st_mtime)
        if unchanged:
            file.md5 = row["md5"]
        if unchanged and row["has_metadata"]:
            file.make, file.model = row["make"], row["model"]
            date_file(file, row["taken_at"], row["taken_at_source"], row["tags"], mtime_fallback)
        elif kind(path) in _KINDS:
            unread.append(file)
        files.append(file)
    for file, (_, tags, _) in zip(unread, session.read(file.path for file in unread)):
        fields = exif.derived_fields(tags) if tags else {}
        file.make, file.model = fields.get("make"), fields.get("model")
        date_file(file, fields.get("taken_at"), fields.get("taken_at_source"), tags, mtime_fallback)
    return files, problems


# Planning


@dataclass
class Member:
    file: File
    kind: str
    stem: str
    ext: str


def units(files):
    """Files grouped into units that travel together: same folder, same stem (case aside).

    A stem shared by two files with the same extension is not a pair: the second starts a unit of its own.
    """
    groups = {}
    for file in files:
        folder, name = os.path.split(file.path)
        stem, ext = split_name(name)
        member = Member(file, kind(file.path), stem, ext)
        candidates = groups.setdefault((folder, stem.casefold()), [[]])
        for unit in candidates:
            if all(other.ext.casefold() != ext.casefold() for other in unit):
                unit.append(member)
                break
        else:
            candidates.append([member])
    for candidates in groups.values():
        for unit in candidates:
            yield _ordered(unit)


def _ordered(unit):
    """The unit with its primary first: the first RAW, image or video with a date (else the first of them)."""
    media = sorted((m for m in unit if m.kind in _KINDS), key=lambda m: _KINDS.index(m.kind))
    dated = [m for m in media if m.file.taken]
    primary = (dated or media or unit)[0]
    return [primary] + [m for m in unit if m is not primary]


class Destinations:
    """What occupies destination names: files on disk, and files this run has already placed there."""

    def __init__(self):
        self.claimed = {}
        self._on_disk = {}  # md5 of files found at destinations, by path

    def verdict(self, file, target):
        """``"free"``, ``"here"`` (the file itself), ``"same"`` (identical content) or ``"taken"``."""
        if target == file.path:
            return "here"
        other = self.claimed.get(target)
        if other is not None and other.path == file.path:
            return "same"  # given twice (a folder and a file in it)
        try:
            if other is None:
                stat = os.lstat(target)
                if not os.path.isfile(target) or stat.st_size != file.size:
                    return "taken"
                if target not in self._on_disk:
                    self._on_disk[target] = md5_of(target)
                digest = self._on_disk[target]
            elif other.size != file.size:
                return "taken"
            else:
                # A file placed by this run may have moved there already.
                digest = _md5(other, target)
            return "same" if _md5(file) == digest else "taken"
        except FileNotFoundError as error:
            return "free" if error.filename == target and other is None else "taken"
        except OSError:
            return "taken"


def _md5(file, moved_to=None):
    if file.md5 is None:
        try:
            file.md5 = md5_of(file.path)
        except FileNotFoundError:
            if moved_to is None:
                raise
            file.md5 = md5_of(moved_to)
    return file.md5


def plan(files, options, destinations):
    """Yield the Action of every file: where it goes, or why it stays."""
    for unit in units(files):
        if unit[0].kind not in _KINDS:
            for member in unit:
                reason = "sidecar without its photo" if member.kind == "sidecar" else "not a photo or video"
                yield Action(SKIP, member.file.path, None, reason)
            continue
        yield from _plan_unit(unit, options, destinations)


def _plan_unit(unit, options, destinations):
    primary = unit[0].file
    folder, names = _layout(unit, options)
    for number in itertools.count():
        targets = [os.path.join(folder, _numbered(name, m.ext, number)) for m, name in zip(unit, names)]
        verdicts = [destinations.verdict(m.file, target) for m, target in zip(unit, targets)]
        if "taken" not in verdicts:
            break
    verb = MOVE if options.move else COPY
    for member, target, verdict in zip(unit, targets, verdicts):
        file = member.file
        if verdict == "here":
            yield Action(SKIP, file.path, target, "already in place")
        elif verdict == "same":
            yield Action(SKIP, file.path, target, "duplicate: same content already at dest")
        else:
            destinations.claimed[target] = file
            if member is not unit[0]:
                reason = "with {}".format(os.path.basename(primary.path))
            elif primary.taken:
                reason = "{} {:%Y-%m-%d %H:%M:%S}".format(primary.source, primary.taken)
            else:
                reason = "no capture date"
            yield Action(verb, file.path, target, reason, file.size, file.mtime, file.md5)


def _layout(unit, options):
    """The destination folder of a unit and a name for each member, before any numbering."""
    primary = unit[0]
    dest = os.path.abspath(options.dest)
    if primary.file.taken is None:
        return os.path.join(dest, _relative(options.undated)), [os.path.basename(m.file.path) for m in unit]
    fields = dict(
        taken=primary.file.taken,
        make=_clean(primary.file.make),
        model=_clean(primary.file.model),
        name=primary.stem,
        ext=primary.ext,
    )
    folder = os.path.join(dest, _relative(options.pattern.format(**fields)))
    if options.rename is None:
        return folder, [os.path.basename(m.file.path) for m in unit]
    return folder, [_clean(options.rename.format(**dict(fields, ext=m.ext)), "_") for m in unit]


def _numbered(name, ext, number):
    """``IMG_0001.jpg`` -> ``IMG_0001_2.jpg``: the number goes before the (possibly double) extension."""
    if not number:
        return name
    if ext and name.endswith(ext):
        return "{}_{}{}".format(name[: -len(ext)], number, ext)
    return "{}_{}".format(name, number)


def planned(paths, options, store, session):
    """Yield the whole plan, folder by folder: ``gather`` -> ``describe`` -> ``plan``."""
    destinations = Destinations()
    for batch, problems in gather(paths, options.dest):
        yield from problems
        batch = [path for path in batch if path not in destinations.claimed]  # placed earlier in this run
        files, problems = describe(batch, store, session, options.mtime_fallback)
        yield from problems
        yield from plan(files, options, destinations)


# Applying


def apply(actions, store, run, batch=BATCH):
    """Carry out a plan; yield every action, in order, with ``failed`` and ``reason`` set on failure.

    Each batch is journalled before anything is touched and settled (with the
    database rows that follow the files) as soon as it is done; on an interruption
    whatever was finished is settled and the rest is left to :func:`recover`.
    """
    actions = iter(actions)
    while True:
        chunk = list(itertools.islice(actions, batch))
        if not chunk:
            return
        store.journal_organize(run, [action for action in chunk if action.action != SKIP])
        settled = []
        try:
            for action in chunk:
                if action.action != SKIP:
                    try:
                        _perform(action)
                    except (OSError, OrganizeError) as error:
                        action.failed, action.reason = True, describe_error(error)
                    settled.append(action)
                yield action
        finally:
            store.settle_organize(settled)


def _perform(action):
    if action.action == REMOVE:
        _remove_copy(action.src, action.twin)
        return
    os.makedirs(os.path.dirname(action.dest), exist_ok=True)
    if action.action == MOVE:
        try:
            rename_noreplace(action.src, action.dest)
            return
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
    action.md5 = copy_verified(action.src, temp_path(action), action.dest)
    action.copied_mtime = os.stat(action.dest).st_mtime
    if action.action == MOVE:
        stat = os.stat(action.src)
        if (stat.st_size, stat.st_mtime) != (action.size, action.mtime):
            raise OrganizeError("source changed while it was copied; copy kept, source left in place")
        os.unlink(action.src)
        fsync_folder(os.path.dirname(action.src))


def temp_path(action):
    """The temporary name of a copy in progress: in the destination folder, named by its journal entry."""
    return os.path.join(os.path.dirname(action.dest), "{}{}.tmp".format(TEMP_PREFIX, action.journal))


def copy_verified(src, temp, dest):
    """Copy src to dest through temp: fsync, verify the md5 read back from disk, rename without overwriting.

    Returns the md5. No half-written file is ever left under dest's name.
    """
    digest = hashlib.md5()
    try:
        with open(src, "rb") as source, open(temp, "xb") as target:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                target.write(block)
            target.flush()
            os.fsync(target.fileno())
            times = os.fstat(source.fileno())
        try:
            shutil.copystat(src, temp)
        except OSError:
            # File systems without Unix modes (FAT, some shares): the times at least.
            os.utime(temp, ns=(times.st_atime_ns, times.st_mtime_ns))
        if md5_of(temp, uncached=True) != digest.hexdigest():
            raise OrganizeError("the copy does not match the original (md5); source left in place")
        rename_noreplace(temp, dest)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_folder(os.path.dirname(dest))
    return digest.hexdigest()


def _remove_copy(path, twin):
    try:
        same = os.path.getsize(path) == os.path.getsize(twin) and md5_of(path) == md5_of(twin)
    except FileNotFoundError as error:
        if error.filename == path:
            return  # already gone
        raise OrganizeError("the original {} is gone; the copy is kept".format(twin))
    if not same:
        raise OrganizeError("the copy differs from the original {} now; it is kept".format(twin))
    os.unlink(path)


def md5_of(path, uncached=False):
    with open(path, "rb") as handle:
        if uncached:
            # Read back from the disk, not from the page cache the copy just filled.
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        return hashlib.file_digest(handle, "md5").hexdigest()


def fsync_folder(folder):
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe_error(error):
    return os_error_text(error) if isinstance(error, OSError) else str(error)


# Recovery and undo


@contextlib.contextmanager
def exclusive(db_path):
    """Hold the organize lock of a database while journalling: recovery must not touch a live run's files."""
    with open(db_path + "-organize.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OrganizeError("another shashin-organize is running on this database")
        yield


def recover(store):
    """Finish the journal entries an interrupted run left unsettled; return them, settled.

    A move whose file is at its destination is recorded as done; one that also left
    its source (cross-filesystem, killed before the removal) is finished once both
    are verified identical. Whatever had not happened yet is marked interrupted, for
    the re-run to plan again. Temporary files are removed.
    """
    entries = [_entry(row) for row in store.unsettled_organize()]
    for action in entries:
        if action.action != REMOVE:
            try:
                os.unlink(temp_path(action))
            except OSError:
                pass
        try:
            _resolve(action)
        except (OSError, OrganizeError) as error:
            action.failed, action.reason = True, describe_error(error)
    store.settle_organize(entries)
    return entries


def _entry(row):
    """A journal row as the Action it records."""
    return Action(
        row["action"], row["src"], row["dest"], None, row["size"], row["mtime"], row["md5"],
        twin=row["twin"], journal=row["id"], undoes=row["undoes"],
    )


def _resolve(action):
    if action.action == REMOVE:
        if os.path.lexists(action.src):
            _remove_copy(action.src, action.twin)
        return
    if not os.path.lexists(action.dest):
        action.failed, action.reason = True, INTERRUPTED
        return
    if not os.path.lexists(action.src):
        return  # a file gets its final name only once complete (and verified, if copied)
    digest = md5_of(action.dest)
    if os.path.getsize(action.src) != os.path.getsize(action.dest) or md5_of(action.src) != digest:
        raise OrganizeError("interrupted, and {} is not the same file: both kept".format(action.dest))
    action.md5 = digest
    if action.action == MOVE:
        os.unlink(action.src)


def undo_plan(store, run):
    """Actions that reverse a run's finished entries, newest first: moves go back, verified copies go."""
    reason = "undo of journal {}".format(run)
    for entry in map(_entry, reversed(store.organize_entries(run, state="done"))):
        if entry.action == REMOVE:
            yield Action(SKIP, entry.src, None, "a removal cannot be undone")
            continue
        try:
            stat = os.stat(entry.dest)
        except OSError as error:
            yield failure(entry.dest, describe_error(error), entry.src)
            continue
        if entry.action == COPY:
            yield Action(REMOVE, entry.dest, None, reason, stat.st_size, stat.st_mtime, twin=entry.src,
                         undoes=entry.journal)
        elif os.path.lexists(entry.src):
            yield failure(entry.dest, "its old place is taken: {}".format(entry.src), entry.src)
        else:
            yield Action(MOVE, entry.dest, entry.src, reason, stat.st_size, stat.st_mtime, entry.md5,
                         undoes=entry.journal)


def remove_empty_folders(paths, root):
    """Remove folders left empty by an undo, from each path's folder up to (not including) root."""
    root = os.path.abspath(root)
    for folder in sorted({os.path.dirname(path) for path in paths}, key=len, reverse=True):
        while folder.startswith(os.path.join(root, "")):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)
