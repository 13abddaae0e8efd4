"""A video reached by two paths (a hard link) is one file, as a photo is: not a copy of itself when grouped,
said so beside its group on the review page, and never moved to the trash as a copy of what stays."""

import os
import random
import shutil
from contextlib import closing

import pytest

from conftest import json_lines, run
from review_client import Visitor, datasette, key
from shashin import demo_videos, trash
from shashin.similarity import Group
from shashin.store import Store

CLIP = {"width": 192, "height": 108, "seconds": 4.0, "fps": 12}


@pytest.fixture
def linked(tmp_path):
    """A clip, a hard link to it, a byte-identical copy and a resized copy, hashed: ``(db, paths by name)``."""
    folder = tmp_path / "Videos"
    take = demo_videos.random_take(random.Random(2), demo_videos.PHOTOS[1])
    paths = {"clip": demo_videos.clip(folder / "clip.mp4", take, **CLIP)}
    paths["link"] = folder / "link to clip.mp4"
    os.link(paths["clip"], paths["link"])
    paths["copy"] = shutil.copy2(paths["clip"], folder / "clip copy.mp4")
    paths["resized"] = folder / "clip small.mp4"
    demo_videos.make_copy("resize", paths["clip"], paths["resized"], random.Random(1))
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    return db, {name: str(path) for name, path in paths.items()}


def test_a_hard_linked_video_is_not_a_copy_of_itself(linked):
    db, paths = linked
    result = run("shashin-group", "--db", db, "-v", check=0)
    [group] = json_lines(result.stdout)
    assert sorted(group["paths"]) == sorted([paths["clip"], paths["copy"], paths["resized"]])
    assert "{}: the same file as {} (one file, two paths)".format(paths["link"], paths["clip"]) in result.stderr


def forced_group(db, *paths):
    """A group holding these paths, as an older shashin (or a hand-edited database) could have stored it."""
    with closing(Store(db)) as store:
        rows = store.images_by_path(paths)
        [group_id] = store.replace_groups([Group("exact", [(path, rows[path]["md5"], 0) for path in paths])])
        return group_id


@pytest.mark.asyncio
async def test_the_review_page_says_so_and_keeping_one_path_never_trashes_the_other(linked):
    """Kept by one path, the clip is not moved away by its other path: only the real copy goes."""
    db, paths = linked
    group = forced_group(db, paths["clip"], paths["link"], paths["copy"])
    root = Visitor(await datasette(db), {"id": "root"})
    page = (await root.get("/-/shashin")).text
    said = "link to clip.mp4 is the same file as {} (one file, two paths), not another copy"
    assert said.format(paths["clip"]) in page
    removed = (await root.post("/-/shashin/remove", {"group": group, "keep": key(paths["clip"])})).json()
    assert removed["removed"] == 1 and not removed["ok"]
    assert removed["problems"] == [
        "{}: not removed: it is the same file as {} (one file, two paths), not a copy".format(
            paths["link"], paths["clip"]
        )
    ]
    assert os.path.exists(paths["clip"]) and os.path.exists(paths["link"]) and not os.path.exists(paths["copy"])
    assert os.stat(paths["clip"]).st_nlink == 2


def test_a_video_with_only_its_hard_link_beside_it_is_the_last_copy(linked):
    db, paths = linked
    group = forced_group(db, paths["clip"], paths["link"])
    with closing(Store(db)) as store:
        _, [outcome] = trash.remove(store, group, [paths["link"]])
        assert not outcome.ok and "same file as {}".format(paths["clip"]) in outcome.message
        _, [outcome] = trash.remove(store, group, [paths["clip"]])
        assert not outcome.ok and "same file as {}".format(paths["link"]) in outcome.message
        assert store.trash_entries() == []
    assert os.stat(paths["clip"]).st_nlink == 2
