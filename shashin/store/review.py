"""What the review page reads: groups in order of the space they free, and their members."""

from .base import db_path, fs_path, in_chunks
from .trash import not_in_trash


class ReviewMixin:
    """Read-only queries joining groups, images, thumbnails and ranks."""

    def groups_signature(self):
        """Changes whenever the grouping is rewritten; keys caches of :meth:`groups_by_saving`.

        Cheap at any size: a count over the narrow group_id index and two index ends
        (groups ids are never reused, so changed membership shows as a new largest id).
        """
        sql = """select (select count(*) from group_members), (select max(rowid) from group_members),
                        (select max(id) from groups)"""
        return tuple(self.db.execute(sql).fetchone())

    def groups_by_saving(self):
        """``(id, kind, saving)`` of every group, the most bytes freed first.

        The saving is what removing all but the largest member frees.
        """
        sql = """
            select g.id, g.kind, coalesce(sum(i.size) - max(i.size), 0) as saving
            from groups g join group_members m on m.group_id = g.id left join images i on i.path = m.path
            group by g.id order by saving desc, g.id
        """
        return self.db.execute(sql).fetchall()

    def review_groups(self, group_ids):
        """Rows of these groups, as ``{id: row}``."""
        sql = "select * from groups where id in ({})".format(", ".join("?" * len(group_ids)))
        return {row["id"]: row for row in self.db.query(sql, list(group_ids))} if group_ids else {}

    def review_members(self, group_ids):
        """Members of these groups still in place (not trashed), as ``{group_id: [row]}``.

        A row is the member's images row plus distance, group_md5 (its md5 when it was
        grouped: a rescan since may have changed md5), has_thumbnail, same_file (the
        other scanned paths to the same file: a hard link, a folder reached through a
        link), and rank, keep_probability and reasons when shashin-rank has ranked it.
        """
        ranked = self.db["ranks"].exists()
        sql = """
            select m.group_id, m.path as member_path, m.md5 as group_md5, m.distance, i.*,
              exists(select 1 from thumbnails t where t.md5 = i.md5) as has_thumbnail{ranks}
            from group_members m left join images i on i.path = m.path {join}
            where m.group_id in ({marks})
              and {not_in_trash}
            order by m.group_id, m.path
        """
        found = {group_id: [] for group_id in group_ids}
        for chunk, marks in in_chunks(group_ids):
            query = sql.format(
                ranks=", r.rank, r.keep_probability, r.reasons" if ranked else "",
                join="left join ranks r on r.path = m.path and r.group_id = m.group_id" if ranked else "",
                marks=marks,
                not_in_trash=not_in_trash("m.path"),
            )
            for row in self.db.query(query, chunk):
                row["path"], row["real_path"] = fs_path(row.pop("member_path")), fs_path(row["real_path"])
                row["same_file"] = self._other_paths(row)
                found[row["group_id"]].append(row)
        return found

    def _other_paths(self, row):
        if row["inode"] is None:
            return []
        sql = "select path from images where device = ? and inode = ? and path != ? order by path"
        return [fs_path(path) for (path,) in self.db.execute(sql, [row["device"], row["inode"], db_path(row["path"])])]

    def thumbnail(self, md5):
        """The JPEG thumbnail of this content, or None."""
        row = self.db.execute("select jpeg from thumbnails where md5 = ?", [md5]).fetchone()
        return row[0] if row else None

    def paths_with_md5(self, md5):
        """``(path, format, size)`` of the files recorded with this content, not in the trash."""
        sql = """
            select path, format, size from images i where md5 = ?
            and {}
            order by path
        """.format(not_in_trash("i.path"))
        return [(fs_path(path), format_, size) for path, format_, size in self.db.execute(sql, [md5]).fetchall()]
