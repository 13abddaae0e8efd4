"""shashin-group: exact and near-duplicate groups of real photos, written atomically, stable, honouring ignores."""

import json
import shutil
import sqlite3
import subprocess
import threading
import time

import numpy
import pytest
import scipy.ndimage
from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

from conftest import invoke, json_lines, make_photo, run
from shashin import similarity
from shashin.cli import group as group_command
from shashin.store import Store


def edit(source, target, change):
    """Save a copy of source at target after change(image); the format follows target's suffix."""
    with Image(filename=str(source)) as image:
        change(image)
        image.format = target.suffix.lstrip(".").replace("jpg", "jpeg")
        image.save(filename=str(target))
    return target


def crop_border(image, fraction=0.05):
    dx, dy = round(image.width * fraction), round(image.height * fraction)
    image.crop(dx, dy, width=image.width - 2 * dx, height=image.height - 2 * dy)


def watermark(image):
    with Drawing() as draw:
        draw.font_size = image.height // 16
        draw.fill_color = Color("white")
        draw.text(image.width // 20, image.height - image.height // 20, "(c) shashin 2024")
        draw(image)


TRANSFORMS = {
    "half.jpg": lambda image: image.resize(image.width // 2, image.height // 2),
    "quarter.jpg": lambda image: image.resize(image.width // 4, image.height // 4),
    "q60.jpg": lambda image: setattr(image, "compression_quality", 60),
    "converted.png": lambda image: None,
    "converted.webp": lambda image: None,
    "brighter.jpg": lambda image: image.modulate(brightness=110),
    "contrast.jpg": lambda image: image.brightness_contrast(0, 10),
    "cropped.jpg": crop_border,
    "watermarked.jpg": watermark,
    "grey.jpg": lambda image: setattr(image, "type", "grayscale"),
    "rotated.jpg": lambda image: image.rotate(90),
    "mirrored.jpg": lambda image: image.flop(),
}


def hash_and_group(folder, db, *args, check=0):
    run("shashin-hash", "--db", db, "--prune", folder, folder, check=0)
    result = run("shashin-group", "--db", db, *args, check=check)
    return json_lines(result.stdout)


def members(groups):
    """Groups as sets of file names."""
    return sorted(sorted(path.rsplit("/", 1)[1] for path in group["paths"]) for group in groups)


def test_every_transform_lands_in_its_original_group(tmp_path, db):
    folder = tmp_path / "Pictures"
    originals = [make_photo(folder / "photo{}.jpg".format(index), index) for index in range(3)]
    copies = [edit(originals[0], folder / ("photo0-" + name), change) for name, change in TRANSFORMS.items()]
    shutil.copyfile(originals[0], folder / "photo0-copy.jpg")
    for name, change in [("stripped", "-all="), ("edited", "-Artist=Someone else")]:
        shutil.copyfile(originals[0], folder / "photo0-{}.jpg".format(name))
        subprocess.run(
            ["exiftool", "-q", "-overwrite_original", change, str(folder / "photo0-{}.jpg".format(name))], check=True
        )
    shutil.copyfile(originals[1], folder / "photo1-copy.jpg")

    groups = hash_and_group(folder, db)

    expected_similar = sorted(
        ["photo0.jpg", "photo0-copy.jpg", "photo0-stripped.jpg", "photo0-edited.jpg"] + [c.name for c in copies]
    )
    assert members(groups) == sorted([expected_similar, ["photo1-copy.jpg", "photo1.jpg"]])
    kinds = {group["kind"] for group in groups if "photo1.jpg" in str(group["paths"])}
    assert kinds == {"exact"}
    assert all(set(group) == {"group", "kind", "paths", "max_distance", "identical_to"} for group in groups)
    (similar,) = [group for group in groups if group["kind"] == "similar"]
    assert similar["identical_to"] == {str(originals[0]): str(folder / "photo0-copy.jpg")}  # the first by path


def test_without_rotations_turned_copies_stay_apart(tmp_path, db):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "photo.jpg", 2)
    edit(original, folder / "rotated.jpg", TRANSFORMS["rotated.jpg"])
    edit(original, folder / "mirrored.jpg", TRANSFORMS["mirrored.jpg"])
    edit(original, folder / "half.jpg", TRANSFORMS["half.jpg"])
    assert members(hash_and_group(folder, db, "--no-rotations")) == [["half.jpg", "photo.jpg"]]


def test_different_photos_never_group(tmp_path, db):
    folder = tmp_path / "Pictures"
    for index in range(12):  # six photos, and a second framing of each shifted by 37 px
        make_photo(folder / "photo{:02d}.jpg".format(index), index)
    for name, colour in [("black.jpg", "black"), ("black-small.png", "black"), ("white.jpg", "white")]:
        with Image(width=640 if name != "black-small.png" else 320, height=480, background=Color(colour)) as image:
            image.save(filename=str(folder / name))
    assert hash_and_group(folder, db, "--threshold", "16") == []


def test_byte_identical_black_frames_are_exact_duplicates(tmp_path, db):
    folder = tmp_path / "Pictures"
    folder.mkdir()
    with Image(width=640, height=480, background=Color("black")) as image:
        image.save(filename=str(folder / "black.jpg"))
    shutil.copyfile(folder / "black.jpg", folder / "black-copy.jpg")
    make_photo(folder / "photo.jpg", 1)
    groups = hash_and_group(folder, db)
    assert [(group["kind"], len(group["paths"])) for group in groups] == [("exact", 2)]


def test_no_chaining_of_hash_neighbours(tmp_path):
    # b is 3 bits from a and from c, which are 6 bits apart: single linkage would make one group of three.
    paths = [tmp_path / name for name in ("a.jpg", "b.jpg", "c.jpg")]
    for path in paths:
        path.write_bytes(path.name.encode())
    hashes = ["0000000000000000", "0000000000000007", "000000000000003f"]
    stdin = "".join(
        json.dumps({"path": str(path), "md5": path.stem * 32, "dhash": dhash}) + "\n"
        for path, dhash in zip(paths, hashes)
    )
    groups = json_lines(run("shashin-group", "--no-db", "-", "--threshold", "4", input=stdin, check=0).stdout)
    assert len(groups) == 1 and len(groups[0]["paths"]) == 2
    assert groups[0]["max_distance"] <= 4


def test_not_duplicates_survive_rescan_and_rename(tmp_path, db):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "photo.jpg", 3)
    edit(original, folder / "small.jpg", TRANSFORMS["half.jpg"])
    assert members(hash_and_group(folder, db)) == [["photo.jpg", "small.jpg"]]

    result = run("shashin-group", "--db", db, "--not-duplicates", folder / "photo.jpg", folder / "small.jpg", check=0)
    assert json_lines(result.stdout) == []

    (folder / "small.jpg").rename(folder / "renamed.jpg")
    assert hash_and_group(folder, db) == []
    run("shashin-hash", "--db", db, "--prune", folder, folder, check=0)
    assert json_lines(run("shashin-group", "--db", db, check=0).stdout) == []


def test_a_pair_marked_on_the_review_page_never_shares_a_group(tmp_path, db, open_store):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "photo.jpg", 0)
    edit(original, folder / "half.jpg", TRANSFORMS["half.jpg"])
    edit(original, folder / "grey.jpg", TRANSFORMS["grey.jpg"])
    assert members(hash_and_group(folder, db)) == [["grey.jpg", "half.jpg", "photo.jpg"]]

    store = open_store(db)
    rows = store.images_by_path([str(folder / "photo.jpg"), str(folder / "half.jpg")])
    store.add_not_duplicates([row["md5"] for row in rows.values()])
    groups = members(json_lines(run("shashin-group", "--db", db, check=0).stdout))
    assert len(groups) == 1 and "grey.jpg" in groups[0] and len(groups[0]) == 2


def test_not_duplicates_needs_hashed_files(tmp_path, db):
    folder = tmp_path / "Pictures"
    make_photo(folder / "photo.jpg", 3)
    paths = [folder / "photo.jpg", folder / "other.jpg"]
    Store(db).close()
    result = invoke(group_command.cli, "--db", db, "--not-duplicates", *paths, check=2)
    assert "not hashed" in result.stderr


def test_group_ids_are_stable_and_never_reused(tmp_path, db):
    folder = tmp_path / "Pictures"
    for index in range(2):
        original = make_photo(folder / "photo{}.jpg".format(index), index)
        edit(original, folder / "photo{}-small.jpg".format(index), TRANSFORMS["half.jpg"])
    first = {group["group"]: group["paths"] for group in hash_and_group(folder, db)}
    assert len(first) == 2
    second = {group["group"]: group["paths"] for group in hash_and_group(folder, db)}
    assert second == first

    (folder / "photo1-small.jpg").unlink()
    make_photo(folder / "photo1-again.jpg", 1)
    third = {group["group"]: group["paths"] for group in hash_and_group(folder, db)}
    kept = [group_id for group_id, paths in first.items() if "photo0.jpg" in str(paths)][0]
    assert third[kept] == first[kept]
    assert set(third) - {kept} and not (set(third) - {kept}) & set(first)


def test_missing_and_changed_files_leave_their_groups(tmp_path, db):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "photo.jpg", 4)
    for name in ("half.jpg", "q60.jpg"):
        edit(original, folder / name, TRANSFORMS[name])
    assert members(hash_and_group(folder, db)) == [["half.jpg", "photo.jpg", "q60.jpg"]]

    (folder / "q60.jpg").unlink()
    result = run("shashin-group", "--db", db, check=0)
    assert members(json_lines(result.stdout)) == [["half.jpg", "photo.jpg"]]
    assert "1 missing" in result.stderr

    with open(folder / "half.jpg", "ab") as handle:
        handle.write(b"changed")
    result = run("shashin-group", "--db", db, "-v", check=0)
    assert json_lines(result.stdout) == []
    assert "1 changed" in result.stderr and "half.jpg: changed since it was hashed" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from groups").fetchone() == (0,)


def test_a_reader_sees_the_old_or_the_new_grouping(tmp_path, db):
    folder = tmp_path / "Pictures"
    for index in range(3):
        original = make_photo(folder / "photo{}.jpg".format(index), index)
        edit(original, folder / "photo{}-rotated.jpg".format(index), TRANSFORMS["rotated.jpg"])
        edit(original, folder / "photo{}-small.jpg".format(index), TRANSFORMS["half.jpg"])

    def grouping(groups):
        return frozenset(tuple(sorted(paths)) for paths in groups)

    with_rotations = grouping(group["paths"] for group in hash_and_group(folder, db))
    without = grouping(group["paths"] for group in hash_and_group(folder, db, "--no-rotations"))
    assert with_rotations != without
    seen, stop = [], threading.Event()

    def read():
        conn = sqlite3.connect(db)
        while not stop.is_set():
            rows = conn.execute(
                "select g.id, g.member_count, m.path from groups g join group_members m on m.group_id = g.id"
            ).fetchall()
            groups = {}
            for group_id, count, path in rows:
                groups.setdefault((group_id, count), []).append(path)
            complete = all(count == len(paths) for (_, count), paths in groups.items())
            seen.append(grouping(groups.values()) if complete else "a group with members missing")
            time.sleep(0.005)
        conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for rotations in ("--rotations", "--no-rotations") * 2:
            run("shashin-group", "--db", db, rotations, check=0)
    finally:
        stop.set()
        reader.join()
    assert seen and set(seen) <= {with_rotations, without}


def test_stdin_records_and_no_db(tmp_path):
    folder = tmp_path / "Pictures"
    original = make_photo(folder / "photo.jpg", 5)
    edit(original, folder / "small.png", TRANSFORMS["half.jpg"])
    make_photo(folder / "other.jpg", 2)
    hashed = run("shashin-hash", "--no-db", folder, check=0).stdout
    result = run("shashin-group", "--no-db", "-", "--threshold", "4", input=hashed + "not json\n", check=1)
    assert members(json_lines(result.stdout)) == [["photo.jpg", "small.png"]]
    assert "not a JSON line of shashin-hash" in result.stderr


@pytest.mark.parametrize("args", [["--no-db"], ["some/file.jpg"]])
def test_usage_errors(args, db):
    assert "Error" in invoke(group_command.cli, "--db", db, *args, check=2).stderr


def test_orientation_between_names_the_turn_from_one_content_to_the_other():
    """The orientation of a copy relative to another, as the review page badges and aligns it."""
    blurred = scipy.ndimage.gaussian_filter(numpy.random.default_rng(1).random((64, 64)), 4)
    view = ((blurred - blurred.min()) * 255 / numpy.ptp(blurred)).astype(numpy.uint8)
    upright = similarity.fingerprints(view[None])[0]
    for orientation in range(similarity.ORIENTATIONS):
        turned = similarity.fingerprints(similarity.orient(view, orientation)[None])[0]
        assert similarity.orientation_between(upright, turned) == orientation
        assert similarity.orientation_between(turned, upright) == similarity.inverse(orientation)


def test_the_hub_of_a_group_is_turned_as_most_of_its_members_are():
    """The copy turned a quarter is known to match as many members as the original, yet the crops are placed
    in the original: the frame verifier compares upright pictures alone."""
    blurred = scipy.ndimage.gaussian_filter(numpy.random.default_rng(2).random((72, 72)), 4)
    field = ((blurred - blurred.min()) * 255 / numpy.ptp(blurred)).astype(numpy.uint8)
    view = field[:64, :64]
    # Turned, the original, two crops of it (shifted frames of the same field).
    views = numpy.stack([similarity.orient(view, 1), view, field[4:68, :64], field[:64, 4:68]])
    whole, outer, box = similarity.WHOLE, similarity.OUTER, (0.0, 0.0, 1.0, 1.0)
    frames = {(0, 1): whole, (1, 0): whole, (0, 2): outer, (2, 0): box, (0, 3): outer, (3, 0): box}
    frames.update({(1, 2): outer, (2, 1): box})
    for rotations, hub in ((True, 1), (False, 0)):
        matcher = similarity._Matcher(list("tocd"), similarity.fingerprints(views), 5, rotations, None, set())
        matcher.frames_of = dict(frames)
        assert matcher._hub([0, 1, 2, 3]) == hub
