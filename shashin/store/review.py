"""What the review page reads: groups in order of the space they free, and their members."""

from .base import db_path, fs_path, in_chunks
from .trash import not_in_trash


class ReviewMixin:
    """Read-only queries joining groups, images, thumbnails and ranks."""

    def groups_signature(self):
        """Changes whenever the grouping is rewritten; keys caches of :meth:`groups_for_review`.

        Cheap at any size: a count over the narrow group_id index and two index ends
        (groups ids are never reused, so changed membership shows as a new largest id).
        """
        sql = """select (select count(*) from group_members), (select max(rowid) from group_members),
                        (select max(id) from groups)"""
        return tuple(self.db.execute(sql).fetchone())

    def groups_for_review(self):
        """``(id, kind, saving, largest, taken, first_path)`` of every group, in id order: what the review
        page sorts by. The saving is what removing all but the largest member frees, none for a series
        (different shots, not copies to remove); taken is the earliest capture date of a member; first_path
        the member path that sorts first."""
        sql = """
            select g.id, g.kind, case when g.kind = 'series' then 0 else coalesce(sum(i.size) - max(i.size), 0) end,
              coalesce(max(i.size), 0),
              min(i.taken_at), min(m.path)
            from groups g join group_members m on m.group_id = g.id left join images i on i.path = m.path
            group by g.id order by g.id
        """
        return [
            (group_id, kind, saving, largest, taken, fs_path(first))
            for group_id, kind, saving, largest, taken, first in self.db.execute(sql)
        ]

    def groups_in_folder(self, folder):
        """Ids of the groups with a member inside this folder (at any depth)."""
        folder = folder.rstrip("/")
        # The range of paths below folder/ ("0" follows "/"), read from the primary key's index.
        sql = "select distinct group_id from group_members where path >= ? and path < ?"
        return {group_id for (group_id,) in self.db.execute(sql, [folder + "/", folder + "0"])}

    def group_sureness(self):
        """``{group id: sureness}``: how sure shashin-rank's model is of each group's keeper, for the groups
        it ranked (kept while the rule orders, so the least sure groups can be asked first)."""
        if not self.db["ranks"].exists():
            return {}
        sql = "select group_id, sureness from ranks where rank = 1 and sureness is not null"
        return dict(self.db.execute(sql).fetchall())

    def ranks_signature(self):
        """Changes whenever shashin-rank writes other ranks: the largest rowid, and the sureness
        at a few rowids (a run writes every row again; another model gives other probabilities). Five
        look-ups by rowid, where a sum over every rank would read the whole table on each request."""
        if not self.db["ranks"].exists():
            return None
        (last,) = self.db.execute("select max(rowid) from ranks").fetchone()
        if last is None:
            return None
        probes = sorted({1, last // 4, last // 2, last * 3 // 4, last})
        sql = "select rowid, sureness from ranks where rowid in ({})".format(", ".join("?" * len(probes)))
        return last, tuple(self.db.execute(sql, probes).fetchall())

    def done_groups(self):
        """Ids of groups off the review list: those with a standing decision that moved nothing ("not
        duplicates", or a choice imported from elsewhere), and those with fewer than two copies in place.
        A removal alone does not take a group off the list while two of its copies are left.

        Only groups with a file that went to the trash can have lost copies, so only they are counted.
        """
        sql = """
            select group_id from decisions where batch is null and undone_at is null and group_id is not null
            union
            select m.group_id from group_members m
            where m.group_id in (select group_id from trash)
            group by m.group_id having sum({in_place}) < 2
        """.format(in_place=not_in_trash("m.path"))
        return {group_id for (group_id,) in self.db.execute(sql)}

    def review_signature(self):
        """Changes whenever a decision is made or undone, or a file goes to or comes back from the trash."""
        sql = """select (select count(*) from decisions), (select max(id) from decisions),
                        (select count(undone_at) from decisions), (select max(id) from trash),
                        (select count(trashed_at) + count(restored_at) + count(emptied_at) from trash)"""
        return tuple(self.db.execute(sql).fetchone())

    def has_review_tables(self):
        """Whether the database holds shashin's tables (made by any scan, or by the plugin at start)."""
        return all(self.db[name].exists() for name in ("images", "group_members", "decisions", "trash"))

    def review_counts(self):
        """``(files scanned, groups)``: why the review list is empty, when it is."""
        return tuple(self.db.execute("select (select count(*) from images), (select count(*) from groups)").fetchone())

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
