"""shashin-meta: add exiftool metadata and normalised dates to records, and store them."""

from .. import exif
from ..metadata import READ, UPDATED, read_metadata
from ..outcomes import CACHED, FAILED, SKIPPED
from .common import SetupError, Tool, null_option, paths_argument, write_record

SAVE_EVERY = 128


class Meta(Tool):
    """Add metadata to records: all exiftool tags, the capture date, MIME type, camera make and model.

    Reads the JSON lines of shashin-hash (or bare paths) and writes them out again,
    in order, with "metadata" (every tag as exiftool -G -n names it), "taken_at"
    (ISO 8601, with the offset when the file records one), "taken_at_source",
    "mime_type", "make" and "model", and the facts ranking and the review page read
    ("tag_count", "software", "edited", "lens", "precise_time", "maker_notes",
    "gps_time", "exposure_time", "f_number", "iso", "exposure_compensation",
    "image_number", "burst_id"); and stores them in the database.

    One exiftool process serves the whole run. A file whose metadata is stored
    and which has not changed since is not read again ("updated": its facts were
    derived from its stored tags, for a database older than those columns).

    Exit status: 0 all inputs handled, 1 some files failed, 2 usage or database error.
    """

    name = "shashin-meta"
    examples = """
  find ~/Pictures -type f | shashin-hash | shashin-meta
  shashin-meta ~/Pictures/2019                  # paths work too
  shashin-meta --no-db IMG_0001.HEIC | jq '.metadata["EXIF:Model"]'
"""
    params = [paths_argument(), null_option()]
    summary = (READ, CACHED, SKIPPED, FAILED)

    def open_store(self, db_path, no_db, options):
        if not exif.available():
            raise SetupError("exiftool not found: install it (Debian: apt-get install libimage-exiftool-perl)")
        return super().open_store(db_path, no_db, options)

    def main(self, paths, nul):
        read = []
        try:
            with exif.Session() as session:
                for outcome in read_metadata(self.inputs(paths, nul), self.store, session):
                    self.reporter.count(outcome.status)
                    if outcome.status == FAILED:
                        self.reporter.error(outcome.path, outcome.message)
                    elif outcome.status == SKIPPED:
                        self.reporter.skip(outcome.path, outcome.message)
                    else:
                        if outcome.status in (READ, UPDATED):  # kept before printing: a printed record is never lost
                            read.append(outcome.record)
                        write_record(outcome.record)
                    if len(read) >= SAVE_EVERY:
                        self._save(read)
        finally:
            self._save(read)
        if self.reporter.counts.get(UPDATED):
            self.summary = (READ, CACHED, UPDATED, SKIPPED, FAILED)

    def _save(self, records):
        if self.store and records:
            self.store.save_metadata(records)
        records.clear()


cli = Meta.command()
