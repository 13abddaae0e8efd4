"""Planning: which files go where, read from the disk, the database and exiftool; nothing is changed."""

import datetime
import itertools
import os
import string
from dataclasses import dataclass

from .. import exif
from ..files import error_text, expand, folder_contents, unchanged_since_scan
from ..formats import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS, extension, is_image
from . import COPY, MOVE, SKIP, TEMP_PREFIX, Action, failure, md5_of

SIDECAR_EXTENSIONS = frozenset({".xmp", ".aae"})
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
FIELDS = ("taken", "make", "model", "name", "ext")
MTIME_SOURCE = "FileModifyDate"
_KINDS = ("raw", "image", "video")  # a unit's date comes from the first of these that has one


@dataclass(eq=False, slots=True)
class File:
    """A file to place: where it is, what the database knows of its content, and when it was taken."""

    path: str
    size: int
    mtime: float
    md5: str | None = None
    taken: datetime.datetime | None = None  # wall-clock time where it was taken
    source: str | None = None  # which tag the date came from
    make: str | None = None
    model: str | None = None


# Patterns


def check_options(options):
    """Raise ValueError with a helpful message when a pattern cannot work."""
    sample = dict(taken=datetime.datetime(2001, 2, 3, 4, 5, 6), make="Make", model="Model", name="IMG_0001", ext=".jpg")
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
            raise ValueError("{}: {}".format(option, error)) from None
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


def capture_datetime(taken_at, source, tags=None):
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
        file.taken = capture_datetime(taken_at, source, tags)
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
            for _, items in itertools.groupby(expand(path), key=lambda item: os.path.dirname(item[0])):
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
            problems.append(failure(path, error_text(error)))
            continue
        file = File(path, stat.st_size, stat.st_mtime)
        row = rows.get(path)
        unchanged = row is not None and unchanged_since_scan(row, stat)
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
