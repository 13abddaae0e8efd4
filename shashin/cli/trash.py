"""shashin-trash: list, restore and empty the files the review page removed."""

import click

from .. import trash
from .common import OK, ROW_ID, SOME_FAILED, db_options, required_store, write_record

LIST_FIELDS = ("id", "original_path", "trash_path", "md5", "size", "group_id", "batch", "trashed_at")
EXAMPLES = """
  shashin-trash list | jq -r .original_path       # what is in the trash
  shashin-trash restore 12 13                     # put files back where they were
  shashin-trash restore --batch 3f2a...           # undo one removal
  shashin-trash empty                             # delete them for good (asks first)
"""


@click.group(
    "shashin-trash",
    epilog="\b\nExamples:" + EXAMPLES.rstrip(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def cli():
    """The trash of removed copies: list it, restore from it, empty it.

    The review page moves removed copies into a .shashin-trash folder on their own
    filesystem and journals each move in the database; nothing is deleted until
    the trash is emptied. Every command here reads that journal.

    Exit status: 0 done, 1 some files could not be restored or deleted, 2 usage or database error.
    """


def _store(db_path, no_db):
    return required_store(db_path, no_db, "the trash is journaled in the database")


@cli.command("list")
@db_options
def list_(db_path, no_db):
    """Write one JSON line per file in the trash, newest first; the total on stderr."""
    store = _store(db_path, no_db)
    for entry in store.trash_entries():
        write_record({field: entry[field] for field in LIST_FIELDS})
    files, size = store.trash_totals()
    click.echo("shashin-trash: {} files, {} in the trash".format(files, trash.human_size(size)), err=True)


@cli.command("restore")
@click.argument("ids", nargs=-1, type=ROW_ID)
@click.option("--batch", help="Restore every file of this removal (the batch of `list`).")
@db_options
def restore(ids, batch, db_path, no_db):
    """Move files back to where they were, by trash id; never over a file that is there now."""
    if not ids and not batch:
        raise click.UsageError("give trash ids (see shashin-trash list) or --batch")
    store = _store(db_path, no_db)
    outcomes = trash.restore(store, list(ids))
    if batch:
        outcomes += trash.restore_batch(store, batch) or [
            trash.Outcome(batch, False, "removal {}: not in the trash".format(batch))
        ]
    _exit(_report(outcomes))


@cli.command("empty")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@db_options
def empty(yes, db_path, no_db):
    """Delete every file in the trash for good, and say how much space that freed."""
    store = _store(db_path, no_db)
    files, size = store.trash_totals()
    if not files:
        click.echo("shashin-trash: the trash is empty", err=True)
        return
    if not yes:
        click.confirm("Delete {} files ({}) for good?".format(files, trash.human_size(size)), abort=True, err=True)
    count, freed, outcomes = trash.empty(store)
    code = _report([outcome for outcome in outcomes if not outcome.ok])
    click.echo("shashin-trash: deleted {} files, freed {}".format(count, trash.human_size(freed)), err=True)
    _exit(code)


def _report(outcomes):
    failed = 0
    for outcome in outcomes:
        if outcome.ok:
            click.echo(outcome.message)
        else:
            failed += 1
            click.echo("shashin-trash: {}".format(outcome.message), err=True)
    return SOME_FAILED if failed else OK


def _exit(code):
    click.get_current_context().exit(code)
