"""shashin-organize: copy or move photos and videos into dated folders, safely, with a journal to undo."""

import contextlib
import os
import sqlite3
import sys

import click

from .. import exif, organize
from ..organize import applying, planning
from .common import INPUT_PATH, ROW_ID, SetupError, Tool, database, write_record

#: What the summary line calls each action, done or (--dry-run) planned.
DONE = {organize.COPY: "copied", organize.MOVE: "moved", organize.REMOVE: "removed", organize.SKIP: "skipped"}
PLANNED = {organize.COPY: "to copy", organize.MOVE: "to move", organize.REMOVE: "to remove", organize.SKIP: "skipped"}


class Organize(Tool):
    """Copy (or --move) photos and videos from each SRC into dated folders under DEST.

    Dates come from the database when it knows a file unchanged (as stored by
    shashin-meta), else from exiftool, best first: DateTimeOriginal, CreateDate,
    QuickTime CreateDate (UTC, shown in the local time of the offset the video
    records). A file with no capture date goes to the --undated folder; its
    modification time is used only with --mtime-fallback.

    Sidecars (.xmp, .aae), a Live Photo's same-name .mov/.mp4 and the two halves
    of a RAW+JPEG pair travel together. Nothing is overwritten: a file whose
    content is already at its destination is skipped as a duplicate, another
    file with the same name gets a number (IMG_0001_1.jpg).

    Each file is journalled in the database before it is touched and written
    under a temporary name before it gets its own; across file systems a move is
    a copy, verified by md5 and synced to disk, before the original goes. If a
    run is interrupted, run it again: it finishes the job. Moved files keep their
    rows, hashes, groups and decisions in the database; copies get rows too.

    Prints one JSON line per file: {"action": "copy"|"move"|"skip", "src",
    "dest", "reason"}.

    Exit status: 0 all files handled, 1 some files failed, 2 usage or set-up error
    (or another run on the same database), 130 interrupted.
    """

    name = "shashin-organize"
    examples = """
  shashin-organize --dry-run ~/DCIM ~/Photos      # show the plan, change nothing
  shashin-organize ~/DCIM /mnt/nas/Photos         # copy into Photos/2024/07/14/...
  shashin-organize --move ~/Inbox ~/Photos        # move; the database follows the files
  shashin-organize --pattern '{taken:%Y}/{taken:%Y-%m-%d} {model}' ~/DCIM ~/Photos
  shashin-organize --rename '{taken:%Y%m%d_%H%M%S}{ext}' ~/DCIM ~/Photos
  shashin-organize --move --mtime-fallback old-disk/ ~/Photos
  shashin-organize --undo 7                       # put back what journal 7 moved
"""
    params = [
        click.Argument(["paths"], nargs=-1, type=INPUT_PATH, metavar="SRC... DEST"),
        click.Option(["--move"], is_flag=True, help="Move instead of copying (within one file system, a rename)."),
        click.Option(
            ["--pattern"],
            default=organize.DEFAULT_PATTERN,
            show_default=True,
            metavar="PATTERN",
            help="Folder under DEST, from the fields {taken:STRFTIME}, {make}, {model}, {name} and {ext}.",
        ),
        click.Option(
            ["--rename"],
            metavar="PATTERN",
            help="Rename files with the same fields; must contain {ext}.  [default: keep the name]",
        ),
        click.Option(
            ["--undated"],
            default=organize.DEFAULT_UNDATED,
            show_default=True,
            metavar="FOLDER",
            help="Folder under DEST for files with no capture date (names are kept).",
        ),
        click.Option(
            ["--mtime-fallback"],
            is_flag=True,
            help="Date files that have no capture date by their modification time (the original shashin's"
            " behaviour) instead of putting them in --undated.",
        ),
        click.Option(
            ["--dry-run"], is_flag=True, help="Print the plan and change nothing: no file, folder or database row."
        ),
        click.Option(
            ["--undo"],
            type=ROW_ID,
            metavar="JOURNAL",
            help="Put back what run JOURNAL did (its number is printed at its end).",
        ),
    ]

    def open_store(self, db_path, no_db, options):
        """None for a dry run without a database; read-only for a dry run: it changes no row."""
        dry_run, undo, paths = options["dry_run"], options["undo"], options["paths"]
        if no_db and not dry_run:
            raise click.UsageError("--no-db works only with --dry-run: the journal lives in the database")
        if undo is not None and paths:
            raise click.UsageError("--undo takes no SRC or DEST")
        if undo is None and len(paths) < 2:
            raise click.UsageError("give at least one SRC and a DEST (see --help)")
        if no_db or (dry_run and not os.path.exists(db_path)):
            if undo is not None:
                raise click.UsageError("no journal {}: there is no database {}".format(undo, db_path))
            return None
        return database(db_path, readonly=dry_run)

    def main(self, paths, move, pattern, rename, undated, mtime_fallback, dry_run, undo):
        store, reporter = self.store, self.reporter
        options = None if undo is not None else _options(paths, move, pattern, rename, undated, mtime_fallback)
        try:
            with contextlib.nullcontext() if dry_run else applying.exclusive(store.path):
                if options is None:
                    _undo(store, undo, dry_run, reporter)
                else:
                    _organize(paths[:-1], options, store, dry_run, reporter)
        except organize.OrganizeError as error:
            raise SetupError(str(error)) from None
        except KeyboardInterrupt:
            reporter.close()
            click.echo("shashin-organize: interrupted; run the same command again to finish", err=True)
            sys.exit(130)
        except sqlite3.Error as error:
            raise SetupError("cannot write the journal ({}): stopped; run again once fixed".format(error)) from None
        verbs = (organize.REMOVE, organize.MOVE) if undo is not None else (organize.COPY, organize.MOVE)
        names = PLANNED if dry_run else DONE
        self.summary = [names[verb] for verb in verbs + (organize.SKIP,)] + ["failed"]


cli = Organize.command()


def _options(paths, move, pattern, rename, undated, mtime_fallback):
    options = organize.Options(os.path.abspath(paths[-1]), move, pattern, rename, undated, mtime_fallback)
    try:
        planning.check_options(options)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if os.path.exists(options.dest) and not os.path.isdir(options.dest):
        raise click.UsageError("DEST is not a folder: {}".format(options.dest))
    existing = os.path.abspath(options.dest)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK):
        raise SetupError("cannot write to {} (read-only?)".format(existing))
    if not exif.available():
        raise SetupError("exiftool not found: install it (Debian: apt-get install libimage-exiftool-perl)")
    return options


def _organize(sources, options, store, dry_run, reporter):
    if not dry_run:
        _recover(store, reporter)
    run = None if dry_run else store.start_organize_run("move" if options.move else "copy", options, sources)
    with exif.Session() as session:
        actions = planning.planned(sources, options, store, session)
        if not dry_run:
            actions = applying.apply(actions, store, run)
        for action in actions:
            _report(action, reporter, dry_run)
    if run is not None:
        store.finish_organize_run(run)
        _announce(run, reporter)


def _undo(store, journal, dry_run, reporter):
    run = store.organize_run(journal)
    if run is None:
        raise click.UsageError("no journal {} in {}".format(journal, store.path))
    actions = applying.undo_plan(store, journal)
    if not dry_run:
        _recover(store, reporter)
        undo_run = store.start_organize_run("undo", None, undoes=journal)
        actions = applying.apply(actions, store, undo_run)
    back = []
    for action in actions:
        _report(action, reporter, dry_run)
        if not action.failed and action.action != organize.SKIP:
            back.append(action.src)
    if not dry_run:
        store.finish_organize_run(undo_run)
        if run["dest"]:
            applying.remove_empty_folders(back, run["dest"])
        _announce(undo_run, reporter)


def _recover(store, reporter):
    settled = applying.recover(store)
    for action in settled:
        if action.failed and action.reason != applying.INTERRUPTED:
            reporter.error(action.src, "left by an interrupted run: " + action.reason)
    finished = sum(not action.failed for action in settled)
    if finished and not reporter.quiet:
        reporter.say("finished {} file(s) of an interrupted run".format(finished))


def _report(action, reporter, dry_run):
    write_record(action.record())
    if action.failed:
        reporter.count("failed")
        reporter.error(action.src, action.reason)
    else:
        reporter.count((PLANNED if dry_run else DONE)[action.action])
        if action.action == organize.SKIP:
            reporter.skip(action.src, action.reason)


def _announce(run, reporter):
    if not reporter.quiet and any(reporter.counts.get(DONE[verb]) for verb in DONE if verb != organize.SKIP):
        reporter.say("journal {0} (to undo: shashin-organize --undo {0})".format(run))
