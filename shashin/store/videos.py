"""What shashin keeps of videos: their facts as images columns, their fingerprints in video_frames."""

import numpy
from sqlite_utils import Migrations

from ..records import VIDEO_FIELDS
from ..video import VIEW_SIDE, Fingerprint
from .base import fs_path, in_chunks
from .trash import not_in_trash

migrations = Migrations("shashin-videos")

#: The images columns of a video's facts (records.VIDEO_FIELDS), null for a photo.
VIDEO_COLUMNS = {"duration": float, "frame_rate": float, "video_codec": str, "bitrate": int, "rotation": int}
assert tuple(VIDEO_COLUMNS) == VIDEO_FIELDS


@migrations()
def create_videos(db):
    # Facts beside a photo's width and format, so the review page, ranking and decisions' snapshots read
    # them with the rest of the row; the fingerprint once per content, as thumbnails are.
    for field, kind in VIDEO_COLUMNS.items():
        db["images"].add_column(field, kind)
    db["video_frames"].create({"md5": str, "views": bytes}, pk="md5")


class VideosMixin:
    """Queries over videos' facts and fingerprints."""

    def save_video_frames(self, fingerprints):
        """Store ``{md5: video.Fingerprint}``."""
        with self.write_lock():  # see save_metadata: shashin-meta writes beside it
            self.db["video_frames"].upsert_all(
                ({"md5": md5, "views": print_.views.tobytes()} for md5, print_ in fingerprints.items()),
                pk="md5",
            )

    def video_fingerprints(self, md5s):
        """``{md5: video.Fingerprint}`` of these contents, those that are videos."""
        found = {}
        for chunk, marks in in_chunks(sorted(set(md5s))):
            sql = "select md5, views from video_frames where md5 in ({})".format(marks)
            for md5, views in self.db.execute(sql, chunk):
                found[md5] = Fingerprint(numpy.frombuffer(views, numpy.uint8).reshape(-1, VIEW_SIDE, VIEW_SIDE))
        return found

    def video_durations(self, md5s):
        """``{md5: seconds}`` of these video contents."""
        found = {}
        for chunk, marks in in_chunks(sorted(set(md5s))):
            sql = "select md5, max(duration) from images where md5 in ({}) and duration is not null group by md5"
            found.update(self.db.execute(sql.format(marks), chunk).fetchall())
        return found

    def video_content(self, md5):
        """The hash and video fields of a stored video with this md5, its fingerprint and a thumbnail (a moved
        or copied video is not decoded again), or None."""
        columns = ("width", "height", "format", *VIDEO_FIELDS)
        row = self.db.execute(
            "select {}, views from images join video_frames using (md5)"
            " where md5 = ? and duration is not null"
            " and exists (select 1 from thumbnails where thumbnails.md5 = images.md5) limit 1".format(
                ", ".join(columns)
            ),
            [md5],
        ).fetchone()
        if row is None:
            return None
        fields = dict(zip(columns, row), dhash=None)
        fingerprint = Fingerprint(numpy.frombuffer(row[-1], numpy.uint8).reshape(-1, VIEW_SIDE, VIEW_SIDE))
        return fields, fingerprint

    def video_files(self, md5):
        """Rows (path, format, size, mtime, device, inode, hashed_at) of the videos scanned with this content,
        not in the trash, by path."""
        sql = (
            "select path, format, size, mtime, device, inode, hashed_at from images i"
            " where md5 = ? and duration is not null and {} order by path"
        ).format(not_in_trash("i.path"))
        return [dict(row, path=fs_path(row["path"])) for row in self.db.query(sql, [md5])]

    def forget_unused_video_frames(self):
        """Drop the fingerprints of contents no longer in images."""
        self.db.execute("delete from video_frames where md5 not in (select md5 from images where md5 is not null)")
