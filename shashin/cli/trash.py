"""shashin-trash: list, restore and empty the files the review page removed."""

import click

from .. import trash
from .common import CONTEXT, NEEDS, ROW_ID, Tool, shown, write_record

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
    context_settings=CONTEXT,
)
def cli():
    """The trash of removed copies: list it, restore from it, empty it.

    The review page moves removed copies into a .shashin-trash folder on their own
    filesystem and journals each move in the database; nothing is deleted until
    the trash is emptied. Every command here reads that journal.

    Exit status: 0 done, 1 some files could not be restored or deleted, 2 usage or database error.
    """


class TrashTool(Tool):
    """A subcommand of shashin-trash: the trash is journaled in the database, which must exist."""

    name = "shashin-trash"
    database = NEEDS
    creates_database = False
    verbosity = False
    summary = None

    def report(self, results):
        """Each file's result: done on stdout, not done on stderr (and exit status 1)."""
        for result in results:
            # A name with a newline must not make a message look like two.
            if result.ok:
                click.echo(shown(result.message))
            else:
                self.reporter.fail(shown(result.message))


class List(TrashTool):
    """Write one JSON line per file in the trash, newest first; the total on stderr."""

    subcommand = "list"

    def main(self):
        for entry in self.store.trash_entries():
            write_record({field: entry[field] for field in LIST_FIELDS})
        files, size = self.store.trash_totals()
        self.reporter.say("{} files, {} in the trash".format(files, trash.human_size(size)))


class Restore(TrashTool):
    """Move files back to where they were, by trash id; never over a file that is there now."""

    subcommand = "restore"
    params = [
        click.Argument(["ids"], nargs=-1, type=ROW_ID),
        click.Option(["--batch"], help="Restore every file of this removal (the batch of `list`)."),
    ]

    def main(self, ids, batch):
        if not ids and not batch:
            raise click.UsageError("give trash ids (see shashin-trash list) or --batch")
        self.report(trash.restore(self.store, list(ids)))
        if batch:
            self.report(
                trash.restore_batch(self.store, batch)
                or [trash.Result(batch, False, "removal {}: not in the trash".format(batch))]
            )


class Empty(TrashTool):
    """Delete every file in the trash for good, and say how much space that freed."""

    subcommand = "empty"
    params = [click.Option(["-y", "--yes"], is_flag=True, help="Do not ask for confirmation.")]

    def main(self, yes):
        files, size = self.store.trash_totals()
        if not files:
            self.reporter.say("the trash is empty")
            return
        if not yes:
            click.confirm("Delete {} files ({}) for good?".format(files, trash.human_size(size)), abort=True, err=True)
        count, freed, results = trash.empty(self.store)
        self.report([result for result in results if not result.ok])
        self.reporter.say("deleted {} files, freed {}".format(count, trash.human_size(freed)))


for tool in (List, Restore, Empty):
    cli.add_command(tool.command())
