"""Different captures are not copies: brackets and bursts with real EXIF land in series groups, while
edited exports and date-shifted backups stay copies; byte-identical members are marked."""

import contextlib
import shutil
import sqlite3
import subprocess

import pytest
from wand.image import Image

from conftest import json_lines, make_photo, run
from review_client import Visitor, datasette
from shashin import captures, trash
from shashin.store import Store

CAMERA = ["-Make=Canon", "-Model=Canon EOS 80D"]


def exiftool(path, *arguments):
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *arguments, str(path)], check=True)
    return path


def shot(source, target, brightness=100, shift=0, **tags):
    """A camera's shot of the scene in source: brighter or darker, shifted by a few pixels, with its tags."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(source)) as image:
        image.modulate(brightness=brightness)
        if shift:
            image.crop(shift, shift, width=image.width - 8, height=image.height - 8)
        image.format = "jpeg"
        image.save(filename=str(target))
    return exiftool(target, *CAMERA, *("-{}={}".format(tag, value) for tag, value in tags.items()))


def bracket(folder, source, stem="bracket"):
    """-1, 0 and +1 EV of one scene, a second apart: exposure compensation and time differ."""
    frames = []
    for number, (ev, time) in enumerate([(-1, "1/500"), (0, "1/250"), (1, "1/125")]):
        frames.append(
            shot(
                source,
                folder / "{}{}.jpg".format(stem, number),
                # One EV in sRGB is about a factor 1.37 on the encoded levels.
                brightness=100 * 1.37**ev,
                DateTimeOriginal="2021:07:16 10:00:0{}".format(number),
                SubSecTimeOriginal="{:02d}".format(10 + number),
                ExposureCompensation=ev,
                ExposureTime=time,
                FNumber=8,
                ISO=100,
            )
        )
    return frames


def scan(folder, db):
    hashed = run("shashin-hash", "--db", db, "-q", folder, check=0).stdout
    run("shashin-meta", "--db", db, "-q", input=hashed, check=0)
    return json_lines(run("shashin-group", "--db", db, check=0).stdout)


def kinds(groups):
    """``{kind: [sorted file names of each group]}``."""
    found = {}
    for group in groups:
        found.setdefault(group["kind"], []).append(sorted(path.rsplit("/", 1)[1] for path in group["paths"]))
    return {kind: sorted(names) for kind, names in found.items()}


def test_a_bracket_is_a_series_and_in_no_copy_group(tmp_path, db):
    source = make_photo(tmp_path / "scene.png", 1)
    frames = bracket(tmp_path / "Pictures", source)
    assert kinds(scan(tmp_path / "Pictures", db)) == {"series": [[frame.name for frame in frames]]}
    # Picking the best shot teaches nothing of which copy a person keeps: shashin-rank never asks about a series.
    ranked = json_lines(run("shashin-rank", "--db", db, "-q", check=0).stdout)
    assert [group["sureness"] for group in ranked] == [None]
    assert json_lines(run("shashin-rank", "--db", db, "--ask", "5", "-q", check=0).stdout) == []


def test_burst_shots_are_a_series(tmp_path, db):
    folder = tmp_path / "Pictures"
    source = make_photo(tmp_path / "scene.png", 2)
    same = {"DateTimeOriginal": "2021:07:16 10:00:00", "ExposureTime": "1/250", "FNumber": 4, "ISO": 200}
    for number in range(4):  # one burst: the same exposure, other sub-seconds
        shot(source, folder / "burst{}.jpg".format(number), shift=number, SubSecTimeOriginal=number * 30, **same)
    (folder / "Backup").mkdir()
    shutil.copyfile(folder / "burst3.jpg", folder / "Backup" / "burst3.jpg")
    other = make_photo(tmp_path / "other.png", 3)
    for number in range(2):  # no sub-seconds, but the camera numbered its shots
        shot(other, folder / "numbered{}.jpg".format(number), shift=number, ImageNumber=1200 + number, **same)
    third = make_photo(tmp_path / "third.png", 4)
    for number in range(2):  # two phone bursts: Google's burst ids differ
        shot(
            third, folder / "pixel{}.jpg".format(number), shift=number, **{"XMP-GCamera:BurstID": "b{}".format(number)}
        )
    assert kinds(scan(folder, db)) == {
        "exact": [["burst3.jpg", "burst3.jpg"]],  # a shot with a copy is in its copy group
        "series": [
            ["burst0.jpg", "burst1.jpg", "burst2.jpg"],
            ["numbered0.jpg", "numbered1.jpg"],
            ["pixel0.jpg", "pixel1.jpg"],
        ],
    }


def test_edited_exports_and_date_shifted_backups_stay_copies(tmp_path, db):
    folder = tmp_path / "Pictures"
    source = make_photo(tmp_path / "scene.png", 1)
    _, middle, _ = bracket(folder, source)
    exported = folder / "bracket1-Edit.jpg"
    with Image(filename=str(middle)) as image:  # exposure +0.5 in the editor: brighter pixels, the camera's EXIF
        image.modulate(brightness=118)
        image.save(filename=str(exported))
    exiftool(exported, "-tagsFromFile", str(middle), "-all:all", "-Software=Adobe Photoshop Lightroom Classic 12.2")
    shifted = folder / "Backup" / "bracket1.jpg"
    shifted.parent.mkdir()
    shutil.copyfile(middle, shifted)
    exiftool(shifted, "-AllDates+=5:00:00")

    groups = kinds(scan(folder, db))

    # The middle shot and its copies are a copy group; the two other shots are the series left.
    assert groups == {
        "similar": [["bracket1-Edit.jpg", "bracket1.jpg", "bracket1.jpg"]],
        "series": [["bracket0.jpg", "bracket2.jpg"]],
    }


def test_exact_groups_are_exact_and_identical_members_are_marked(tmp_path, db):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "a.jpg", 0)
    shutil.copyfile(original, folder / "b.jpg")
    with Image(filename=str(original)) as image:
        image.resize(320, 240)
        image.save(filename=str(folder / "c-small.jpg"))
    alone = make_photo(folder / "d.jpg", 5)
    shutil.copyfile(alone, folder / "e.jpg")

    groups = {group["kind"]: group for group in scan(folder, db)}

    assert sorted(groups) == ["exact", "similar"]
    similar, exact = groups["similar"], groups["exact"]
    assert similar["identical_to"] == {str(folder / "b.jpg"): str(folder / "a.jpg")}
    assert exact["paths"] == [str(folder / "d.jpg"), str(folder / "e.jpg")]
    assert exact["identical_to"] == {str(folder / "e.jpg"): str(folder / "d.jpg")}
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("select path, identical_to from group_members"))
    assert stored == {
        str(folder / "a.jpg"): None,
        str(folder / "b.jpg"): str(folder / "a.jpg"),
        str(folder / "c-small.jpg"): None,
        str(folder / "d.jpg"): None,
        str(folder / "e.jpg"): str(folder / "d.jpg"),
    }


def evidence(**facts):
    return captures.Evidence(("canon", "canon eos 80d"), **facts)


def test_what_tells_captures_apart():
    base = evidence(exposure_time=1 / 250, f_number=2.8, iso=100, exposure_compensation=0.0, subsecond="050")
    assert captures.differences(base, base) == []
    # Rounding is no difference: an f-number from ApertureValue, a third of an EV as 0.33, fewer sub-second digits.
    same = evidence(exposure_time=0.004, f_number=2.83, iso=100, exposure_compensation=0.0, subsecond="05")
    assert captures.differences(base, same) == []
    brighter = evidence(exposure_time=1 / 200, f_number=2.8, iso=100, exposure_compensation=1 / 3, subsecond="050")
    assert captures.differences(base, brighter) == ["exposure time", "exposure compensation"]
    assert captures.differences(base, evidence(subsecond="051")) == ["sub-second time"]
    # A fact only one file carries tells nothing; a file without a camera has no evidence.
    assert captures.differences(base, evidence(image_number=12)) == []
    assert captures.differences(base, captures.Evidence(("canon", "canon eos r5"))) == ["camera"]
    assert captures.evidence({"make": "Canon", "model": " ", "exposure_time": 1.0, "tag_count": 40}) is None


@pytest.mark.asyncio
async def test_the_review_page_offers_a_series_to_pick_from_never_in_bulk(tmp_path, db):
    folder = tmp_path / "Pictures"
    bracket(folder, make_photo(tmp_path / "scene.png", 1))
    copy = make_photo(folder / "copy.jpg", 3)
    with Image(filename=str(copy)) as image:
        image.resize(320, 240)
        image.save(filename=str(folder / "copy-small.jpg"))
    groups = {group["kind"]: group for group in scan(folder, db)}
    assert sorted(groups) == ["series", "similar"]
    series, similar = groups["series"]["group"], groups["similar"]["group"]
    with contextlib.closing(Store(db)) as store:
        # As a trained model that is sure of every keeper would rank them.
        store.save_ranks(
            {"path": path, "group_id": group["group"], "rank": rank, "keep_probability": 0.99 if rank == 1 else 0.01}
            | {"reasons": [], "sureness": 0.99}
            for group in groups.values()
            for rank, path in enumerate(group["paths"], 1)
        )
        assert [suggestion["group"] for suggestion in store.confident_suggestions(0.9)] == [similar]
        savings = {row[0]: row[2] for row in store.groups_for_review()}
    assert savings[series] == 0 and savings[similar] > 0

    visitor = Visitor(await datasette(db))
    page = (await visitor.get("/-/shashin")).text
    assert page.count("similar shots, pick the best") == 1
    assert page.index("shashin-similar") < page.index("shashin-series")  # no saving: after the copies
    only = (await visitor.get("/-/shashin?kind=series")).text
    assert "1 group to review" in only and only.count('<figure class="shashin-member') == 3

    # Picking the best shot is no lesson about which copy a person keeps; removing a copy is.
    with contextlib.closing(Store(db)) as store:
        trash.remove(store, series, groups["series"]["paths"][:1])
        trash.remove(store, similar, groups["similar"]["paths"][1:])
        (learnt,) = store.keep_decisions()
    assert [member["path"] for member in learnt[0]] == groups["similar"]["paths"]
