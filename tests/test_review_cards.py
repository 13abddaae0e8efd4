"""What each copy's card says: badges relative to the keeper, facts in plain words, warnings only with
evidence, and Datasette's own images table made readable. Real photos (Wand), real EXIF (exiftool),
scanned by shashin's commands, served by a real Datasette."""

import contextlib
import html as html_lib
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from datasette.database import Database
from wand.image import Image

from conftest import group_of, make_photo, run
from review_client import Visitor, datasette, key
from shashin import review, trash
from shashin.store import Store

pytestmark = pytest.mark.asyncio

CAMERA = ["-Make=Canon", "-Model=Canon EOS 80D", "-LensModel=EF-S18-55mm f/3.5-5.6 IS STM"]


def exiftool(path, *arguments):
    subprocess.run(["exiftool", "-q", "-overwrite_original", *arguments, str(path)], check=True)


def transformed(source, target, change):
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(source)) as image:
        change(image)
        image.save(filename=str(target))
    return target


def same_rounded_size(original, edited):
    """Pad the original's description until it and its edited copy (a few bytes more) read as the same
    size ("52.3 kB") while their byte counts differ."""
    edited.parent.mkdir(parents=True, exist_ok=True)
    for pad in range(0, 400, 7):
        exiftool(original, "-ImageDescription=" + "x" * pad)
        shutil.copy2(original, edited)
        exiftool(edited, "-Software=GIMP 2.10")
        sizes = original.stat().st_size, edited.stat().st_size
        if trash.human_size(sizes[0]) == trash.human_size(sizes[1]) and sizes[0] != sizes[1]:
            return
    raise AssertionError("no padding gave equal rounded sizes")


@pytest.fixture(scope="module")
def cards_library(tmp_path_factory):
    """Scanned for real: a camera original with real EXIF and its copies (byte-identical, rotated 90°,
    mirrored, edited with the same rounded size, half size, cropped), two burst shots of one camera,
    and two look-alike files whose names alone carry different numbers."""
    root = tmp_path_factory.mktemp("cards")
    pictures = root / "Pictures"
    original = make_photo(pictures / "Camera" / "IMG_0001.jpg", 0)
    exiftool(
        original,
        *CAMERA,
        "-DateTimeOriginal=2021:07:16 14:03:22",
        "-SubSecTimeOriginal=10",
        "-OffsetTimeOriginal=+02:00",
        "-ColorSpace#=65535",
        "-ThumbnailImage<=" + str(make_photo(root / "thumb.jpg", 0, 160, 120)),
    )
    paths = {"original": original, "edited": pictures / "Edits" / "IMG_0001 edit.jpg"}
    same_rounded_size(original, paths["edited"])
    paths["identical"] = pictures / "Backup" / "IMG_0001.jpg"
    paths["identical"].parent.mkdir()
    shutil.copy2(original, paths["identical"])
    paths["rotated"] = transformed(original, pictures / "Turned" / "rotated.jpg", lambda image: image.rotate(90))
    paths["mirrored"] = transformed(original, pictures / "Turned" / "mirrored.jpg", lambda image: image.flop())
    paths["half"] = transformed(original, pictures / "Small" / "half.jpg", lambda image: image.resize(320, 240))
    paths["cropped"] = transformed(
        original, pictures / "Small" / "cropped.jpg", lambda image: image.crop(16, 12, width=608, height=456)
    )
    paths["trimmed"] = transformed(
        original, pictures / "Small" / "trimmed.jpg", lambda image: image.crop(0, 12, width=640, height=456)
    )

    # Two shots of one burst: the same camera, the same second, other sub-second times and image numbers.
    paths["shot1"] = make_photo(pictures / "Burst" / "IMG_0100.jpg", 1)
    paths["shot2"] = transformed(paths["shot1"], pictures / "Burst" / "IMG_0101.jpg", lambda image: image.modulate(103))
    for name, (subsec, number) in (("shot1", ("12", 100)), ("shot2", ("45", 101))):
        exiftool(
            paths[name],
            *CAMERA,
            "-DateTimeOriginal=2021:07:17 09:00:05",
            "-SubSecTimeOriginal=" + subsec,
            "-ImageNumber={}".format(number),
        )
    # A bracketed series: the same camera and second, other exposures, nothing else to tell them apart.
    paths["bracket1"] = make_photo(pictures / "HDR" / "DSC_0200.jpg", 4)
    paths["bracket2"] = transformed(paths["bracket1"], pictures / "HDR" / "DSC_0201.jpg", lambda i: i.modulate(96))
    for name, (time, compensation) in (("bracket1", ("1/250", "-1")), ("bracket2", ("1/60", "+1"))):
        exiftool(
            paths[name],
            *CAMERA,
            "-DateTimeOriginal=2021:07:18 18:30:00",
            "-ExposureTime=" + time,
            "-FNumber=8",
            "-ISO=100",
            "-ExposureCompensation=" + compensation,
        )
    paths["exact"] = make_photo(pictures / "Exact" / "a.jpg", 3)
    paths["exact copy"] = pictures / "Exact" / "a copy.jpg"
    shutil.copy2(paths["exact"], paths["exact copy"])
    # Numbers in the names, nothing from a camera: not a burst.
    paths["named1"] = make_photo(pictures / "WhatsApp" / "IMG-20190704-WA0025.jpg", 2)
    paths["named2"] = transformed(
        paths["named1"], pictures / "misc" / "misc-233.jpg", lambda image: image.resize(320, 240)
    )

    db = root / "shashin.db"
    run("shashin-hash", "--db", db, "-q", pictures, check=0)
    run("shashin-meta", "--db", db, "-q", pictures, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    return db, {name: str(path.resolve()) for name, path in paths.items()}


async def group_html(db, path):
    """The review page's section of the group holding path (every group is on the first page)."""
    page = (await Visitor(await datasette(db)).get("/-/shashin")).text
    group = group_of(db, path)
    start = page.index('id="group-{}"'.format(group))
    end = page.find("<section", start)
    return html_lib.unescape(page[start : end if end != -1 else len(page)])


def card(section, path):
    """The card of path within a group's HTML (its checkbox's value is the path's bytes in hex)."""
    found = [c for c in section.split('<figure class="shashin-member')[1:] if 'value="{}"'.format(key(path)) in c]
    assert len(found) == 1, path
    return found[0]


def badges(card_html):
    return re.findall(r'class="shashin-card-badge"[^>]*>([^<]*)<', card_html)


async def test_badges_say_what_each_copy_is_relative_to_the_keeper(cards_library):
    db, paths = cards_library
    section = await group_html(db, paths["original"])
    keeper = card(section, paths["original"])
    assert "shashin-keeper" in keeper.split(">", 1)[0] and badges(keeper) == []
    assert badges(card(section, paths["identical"])) == ["byte-identical"]
    assert "identical file" in card(section, paths["identical"])
    assert "rotated 90°" in badges(card(section, paths["rotated"]))
    assert "mirrored" in badges(card(section, paths["mirrored"]))
    assert "rotated 90°" not in badges(card(section, paths["mirrored"]))
    assert "resized ×0.5" in badges(card(section, paths["half"]))
    assert "cropped 10%" in badges(card(section, paths["cropped"]))  # 5% off each side: 608 × 456
    assert "cropped 5%" in badges(card(section, paths["trimmed"]))  # 640 × 456
    assert {"recompressed", "edited"} <= set(badges(card(section, paths["edited"])))
    assert "Distance" not in section and " bits" not in section


async def test_a_group_of_byte_identical_files_is_exact(cards_library):
    db, paths = cards_library
    exact = await group_html(db, paths["exact"])
    assert "shashin-kind shashin-exact" in exact
    assert badges(card(exact, paths["exact copy"])) == ["byte-identical"]
    # One look-alike among identical files: similar.
    assert "shashin-kind shashin-similar" in await group_html(db, paths["original"])


async def test_facts_in_plain_words(cards_library):
    db, paths = cards_library
    section = await group_html(db, paths["original"])
    keeper, edited = card(section, paths["original"]), card(section, paths["edited"])
    sizes = Path(paths["original"]).stat().st_size, Path(paths["edited"]).stat().st_size
    # The two read as the same rounded size: each shows its exact bytes.
    assert "({:,} bytes)".format(sizes[0]) in keeper and "({:,} bytes)".format(sizes[1]) in edited
    assert "2021-07-16 14:03:22.10" not in keeper and "2021-07-16 14:03:22 UTC+02:00" in keeper
    assert "2021:07:16" not in section
    assert "Canon EOS 80D" in keeper and "EF-S18-55mm f/3.5-5.6 IS STM" in keeper
    assert "640 × 480 (0.3 MP)" in keeper and "JPEG" in keeper
    assert "GIMP 2.10" in edited and "shashin-differs" in edited
    modified = review.file_time(Path(paths["original"]).stat().st_mtime)
    assert modified in keeper and re.search(r"\d{10}\.\d", section) is None
    # All tags: worded, binary data never shown.
    assert "All tags (" in keeper and "uncalibrated" in keeper and "ThumbnailImage" not in keeper
    assert "Binary data" not in section and "use -b option" not in section


async def test_no_burst_warning_from_names_alone_and_one_from_capture_evidence(cards_library):
    db, paths = cards_library
    named = await group_html(db, paths["named1"])
    assert "misc-233.jpg" in named and "burst" not in named
    burst = await group_html(db, paths["shot1"])
    warning = re.search(r'class="shashin-warning">([^<]*)<', burst).group(1)
    assert "IMG_0100.jpg and IMG_0101.jpg look like two shots of a burst" in warning
    assert "same camera (Canon EOS 80D)" in warning and "taken 0.3 s apart" in warning
    assert "sub-second times 0.12 and 0.45" in warning and "image numbers 100 and 101" in warning
    bracket = re.search(r'class="shashin-warning">([^<]*)<', await group_html(db, paths["bracket1"])).group(1)
    assert "DSC_0200.jpg and DSC_0201.jpg look like two shots" in bracket and "taken in one second" in bracket
    assert "exposures 1/250 s f/8 ISO 100 -1 EV and 1/60 s f/8 ISO 100 +1 EV" in bracket
    # Copies of one shot (same camera, time and tags; other bytes, sizes or turns): no warning.
    assert "burst" not in await group_html(db, paths["original"])
    # Names with sequence numbers and nothing from a camera: no warning.
    for names in (["IMG_1234.jpg", "IMG_1235.jpg"], ["20190101_120000_001.jpg", "20190101_120000_002.jpg"]):
        found = review.warnings([{"path": "/p/" + name, "md5": name} for name in names])
        assert not any("burst" in warning for warning in found)


async def test_byte_identical_copies_are_never_a_burst(cards_library, open_store):
    db, paths = cards_library
    store = open_store(db)
    rows = store.images_by_path([paths["original"], paths["identical"]])
    assert not any("burst" in warning for warning in review.warnings(list(rows.values())))


async def test_coded_and_binary_values_in_words():
    assert review.tag_value("EXIF:ColorSpace", 65535) == "uncalibrated"
    assert review.tag_value("EXIF:ExposureTime", 0.004) == "1/250 s"
    assert review.tag_value("EXIF:FNumber", 2.8) == "f/2.8"
    assert review.tag_value("EXIF:ThumbnailImage", "(Binary data 9676 bytes, use -b option to extract)") is None
    assert review.tag_value("EXIF:ModifyDate", "2021:07:16 14:03:22") == "2021-07-16 14:03:22"
    assert review.tag_value("GPS:GPSDateStamp", "2021:07:16") == "2021-07-16"
    assert review.tag_value("XMP:Subject", ["beach", "2021"]) == "beach, 2021"


async def test_images_table_is_readable(cards_library):
    db, paths = cards_library
    ds = await datasette(db)
    name = Path(db).stem
    response = await Visitor(ds).get("/{}/images".format(name))
    assert response.status_code == 200
    page = html_lib.unescape(response.text)
    with contextlib.closing(Store(db)) as store:
        row = store.images_by_path([paths["original"]])[paths["original"]]
    assert '<img src="/-/shashin/thumbnail/{}.jpg"'.format(row["md5"]) in page
    assert review.file_time(row["mtime"]) in page and ">{!r}<".format(row["mtime"]) not in page
    # A short summary instead of the JSON wall.
    assert "Canon EOS 80D · 2021-07-16 14:03:22" in page
    assert '"EXIF:Make"' not in page and "<dt>EXIF:ColorSpace</dt><dd>uncalibrated</dd>" in page
    assert "/-/shashin?group={}".format(group_of(db, paths["original"])) in page
    # Another database's images table is left alone.
    other = Path(db).parent / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("create table images (path text primary key, mtime real, metadata text)")
        conn.execute("""insert into images values ('/x.jpg', 1434925322.0, '{"EXIF:Make": "Nikon"}')""")
        conn.commit()
    ds.add_database(Database(ds, path=str(other)))
    other_page = (await Visitor(ds).get("/other/images")).text
    assert "1434925322.0" in other_page and "shashin/thumbnail" not in other_page
