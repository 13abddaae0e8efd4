"""shashin-scan: the whole scan in one word, hash and metadata, then groups and ranks."""

import subprocess
import sys

import click

from .common import NEEDS, OK, SOME_FAILED, Tool


class Scan(Tool):
    """Scan photo folders into the database, then group the copies and rank them.

    Runs shashin-hash --prune DIR... DIR... | shashin-meta, then shashin-group and
    shashin-rank, all on the same database. Their summary lines show on stderr;
    their JSON lines go nowhere (run the commands themselves to keep them).

    Exit status: 0 done, 1 some step reported failed files (the others still ran),
    2 usage error.
    """

    name = "shashin-scan"
    examples = """
  shashin-scan ~/Pictures /mnt/nas/photos
  shashin-scan --db ~/photos.db "/media/Old Laptop"
"""
    params = [click.Argument(["folders"], nargs=-1, required=True, metavar="DIR...", type=click.Path(file_okay=False))]
    database = NEEDS
    verbosity = False
    summary = None

    def open_store(self, db_path, no_db, options):
        """None: the commands it runs open the database themselves."""
        self.db_path = db_path

    def main(self, folders):
        prune = [argument for folder in folders for argument in ("--prune", folder)]
        hashing = subprocess.Popen(self._command("hash", *prune, *folders), stdout=subprocess.PIPE)
        reading = subprocess.Popen(self._command("meta"), stdin=hashing.stdout, stdout=subprocess.DEVNULL)
        hashing.stdout.close()
        codes = [hashing.wait(), reading.wait()]
        for step in ("group", "rank"):
            codes.append(subprocess.run(self._command(step), stdout=subprocess.DEVNULL).returncode)
        return SOME_FAILED if any(codes) else OK

    def _command(self, name, *arguments):
        return [sys.executable, "-m", "shashin.cli", name, "--db", self.db_path, *arguments]


cli = Scan.command()
