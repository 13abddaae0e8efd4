"""A demo library: real photographs (scikit-image's samples) with the copies a real archive collects.

    python -m shashin.demo DIR

Originals go to DIR/Camera with capture dates and a camera in their EXIF; copies
are spread over Backup/, Exports/, WhatsApp/ and Edits/ the way they pile up in life.

:func:`archive` makes a larger, labelled one for measuring which copy is the camera's
original: camera rolls with the EXIF phones and cameras write, and random copies of each.
"""

import argparse
import datetime
import os
import random
import shutil
import struct
import sys
from pathlib import Path

import exiftool
from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

SAMPLES = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "retina.jpg",
    "hubble_deep_field.jpg",
    "ihc.png",
    "camera.png",
    "moon.png",
)


def sample_folder():
    try:
        import skimage.data
    except ImportError:
        raise SystemExit("the demo needs scikit-image: pip install 'shashin[demo]'") from None
    return Path(skimage.data.__file__).parent


def build(folder):
    """Write the demo library into folder (made if missing); return the number of files."""
    folder = Path(folder)
    samples = sample_folder()
    originals = {}
    for number, name in enumerate(SAMPLES):
        if (samples / name).exists():
            original = _convert(samples / name, folder / "Camera" / "IMG_{:04d}.jpg".format(1001 + number), 92)
            originals[number] = (samples / name, original)
    _write_exif(
        {
            original: "2021:{:02d}:{:02d} 1{}:2{}:0{}".format(1 + n % 9, 10 + n, n % 10, n % 6, n % 10)
            for n, (_, original) in originals.items()
        }
    )
    copies, edits = [], {}
    for number, (source, original) in originals.items():
        stem = original.stem
        if number % 2 == 0:
            copies.append(_copy(original, folder / "Backup" / "Camera" / original.name))
        if number % 3 == 0:
            copies.append(_convert(source, folder / "Exports" / (stem + "-small.jpg"), 85, scale=0.5))
        if number % 3 == 1:
            copies.append(_convert(source, folder / "WhatsApp" / "IMG-2021-WA{:04d}.jpg".format(number), 60))
        if number % 4 == 0:
            copies.append(_convert(source, folder / "Exports" / (stem + ".png")))
        if number % 5 == 0:
            edits[_copy(original, folder / "Edits" / (stem + " copy.jpg"))] = "2022:12:24 18:00:00"
    _write_exif(edits)
    return len(originals) + len(copies) + len(edits)


def _copy(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return target


def _convert(source, target, quality=None, scale=None):
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(source)) as image:
        if scale:
            image.resize(max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        if quality:
            image.compression_quality = quality
        image.strip()
        image.save(filename=str(target))
    return target


def _write_exif(dates):
    with exiftool.ExifToolHelper() as tool:
        for path, date in dates.items():
            tool.set_tags(
                [str(path)],
                {"DateTimeOriginal": date, "CreateDate": date, "Make": "Canon", "Model": "Canon EOS 80D"},
                params=["-overwrite_original", "-P"],
            )


#: Colour and grey photographs the archive's photos are cut from.
ARCHIVE_SAMPLES = SAMPLES + ("motorcycle_right.png", "coins.png", "page.png", "cell.png", "color.png")
#: Kinds of copies of a camera original, as :func:`archive` names them.
COPIES = (
    "backup",
    "png",
    "webp",
    "tiff",
    "lightroom",
    "watermarked",
    "shifted",
    "messenger",
    "web",
    "enhanced",
    "edit",
)


class Camera:
    """How one camera writes a photo: its names, folders, format and tags."""

    def __init__(self, make, model, name, folder, firmware=None, notes=None, gps=False, offset=True, heic=0.0):
        self.make, self.model, self.name, self.folder = make, model, name, folder
        self.firmware, self.notes, self.gps, self.offset, self.heic = firmware, notes, gps, offset, heic


def _maker_notes(header, byte_order, tag, kind, value):
    """A maker-notes block of one entry, as Canon, Samsung and Apple write them (exiftool reads them back)."""
    entry = struct.pack(byte_order + "HHI", tag, kind, 1) + value
    return header + struct.pack(byte_order + "H", 1) + entry + struct.pack(byte_order + "I", 0)


CAMERAS = (
    Camera(
        "Apple",
        "iPhone 12",
        lambda n, t: "IMG_{:04d}".format(n),
        "iPhone/DCIM/100APPLE",
        "16.1",
        _maker_notes(b"Apple iOS\0\0\x01MM", ">", 0x0001, 9, struct.pack(">i", 14)),
        gps=True,
        heic=0.5,
    ),
    Camera(
        "Google",
        "Pixel 6",
        lambda n, t: "PXL_{:%Y%m%d_%H%M%S}{:03d}".format(t, n % 1000),
        "Pixel/DCIM/Camera",
        "HDR+ 1.0.4",
        gps=True,
    ),
    Camera(
        "samsung",
        "SM-G991B",
        lambda n, t: "{:%Y%m%d_%H%M%S}".format(t),
        "Galaxy/DCIM/Camera",
        "G991BXXU5CVK1",
        _maker_notes(b"", ">", 0x0001, 7, b"0100"),
        gps=True,
    ),
    Camera(
        "Canon",
        "Canon EOS 80D",
        lambda n, t: "IMG_{:04d}".format(n),
        "EOS/DCIM/100CANON",
        notes=_maker_notes(b"", ">", 0x000C, 4, struct.pack(">I", 12345678)),
    ),
    Camera("NIKON CORPORATION", "NIKON D750", lambda n, t: "DSC_{:04d}".format(n), "D750/DCIM/100ND750", offset=False),
    Camera("SONY", "ILCE-7M3", lambda n, t: "DSC{:05d}".format(n), "A7/DCIM/100MSDCF", "ILCE-7M3 v3.10"),
)


def archive(folder, count, seed, copies=None):
    """Write an archive of count photos into folder: each a camera original and random copies of it.

    Returns one dict per photo: ``{"files": [paths], "originals": {paths byte-identical to the camera's
    file}, "copies": [kinds]}``; "originals" is empty when neither the original nor a backup of it was
    kept. ``copies`` (kinds of :data:`COPIES`) gives every photo the same copies instead of random ones.
    """
    folder, rng = Path(folder), random.Random(seed)
    samples = sample_folder()
    photos = []
    with exiftool.ExifToolHelper() as tool:
        for number in range(count):
            camera = rng.choice(CAMERAS)
            taken = datetime.datetime(2015, 1, 1) + datetime.timedelta(seconds=rng.randrange(8 * 365 * 86400))
            stem = camera.name(1000 + number, taken)
            if rng.random() < 0.3:  # imported into dated folders, the camera's names kept
                where = folder / "Pictures" / str(taken.year) / taken.strftime("%Y-%m-%d")
            else:
                where = folder / camera.folder
            extension = ".HEIC" if rng.random() < camera.heic else ".JPG"
            original = where / (stem + extension)
            with _source(samples / ARCHIVE_SAMPLES[number % len(ARCHIVE_SAMPLES)], rng) as image:
                _encode(image, original, rng.randint(88, 96))
                _camera_tags(tool, camera, original, taken, rng)
                kinds = list(copies) if copies else rng.sample(COPIES, rng.randint(2, 5))
                files = [original]
                for kind in kinds:
                    files.append(_COPIERS[kind](tool, image, original, folder, rng))
            originals = {original} | {path for kind, path in zip(kinds, files[1:]) if kind == "backup"}
            if not copies and rng.random() < 0.1:  # the camera's file lost; a backup may remain
                original.unlink()
                files.remove(original)
                originals.discard(original)
            photos.append({"files": files, "originals": originals, "copies": kinds})
    return photos


def _source(path, rng):
    """A photo cut from a sample: a random crop, maybe mirrored, at a camera-like 4:3 size (small, to be quick)."""
    image = Image(filename=str(path))
    image.transform_colorspace("srgb")
    width, height = image.width, image.height
    crop = rng.uniform(0.6, 1.0)
    w, h = int(width * crop), int(height * crop)
    left, top = rng.randrange(width - w + 1), rng.randrange(height - h + 1)
    image.crop(left, top, width=w, height=h)
    if rng.random() < 0.5:
        image.flop()
    edge = rng.choice((640, 800, 960))
    image.resize(edge, edge * 3 // 4)
    return image


def _encode(image, target, quality=None, scale=1.0):
    target.parent.mkdir(parents=True, exist_ok=True)
    with image.clone() as copy:
        if scale != 1.0:
            copy.resize(int(copy.width * scale), int(copy.height * scale))
        copy.strip()
        if quality:
            copy.compression_quality = quality
        copy.format = {".jpg": "jpeg", ".heic": "heic", ".tif": "tiff"}.get(target.suffix.lower(), target.suffix[1:])
        copy.save(filename=str(target))
    return target


def _camera_tags(tool, camera, path, taken, rng):
    offset = rng.choice(("+02:00", "-05:00", "+09:00", "+00:00", "+01:00"))
    tags = {
        "Make": camera.make,
        "Model": camera.model,
        "AllDates": taken.strftime("%Y:%m:%d %H:%M:%S"),
        "SubSecTimeOriginal": "{:03d}".format(rng.randrange(1000)),
    }
    if camera.offset:
        tags["OffsetTimeOriginal"] = offset
    if camera.firmware:
        tags["Software"] = camera.firmware
    if camera.gps:
        utc = taken - datetime.timedelta(hours=int(offset[:3]), minutes=int(offset[0] + offset[4:]))
        utc += datetime.timedelta(seconds=rng.randint(-5, 5))
        tags.update(
            GPSDateStamp=utc.strftime("%Y:%m:%d"),
            GPSTimeStamp=utc.strftime("%H:%M:%S"),
            GPSLatitude=rng.uniform(0, 60),
            GPSLatitudeRef="N",
            GPSLongitude=rng.uniform(0, 60),
            GPSLongitudeRef="E",
        )
    params = ["-overwrite_original"]
    if camera.notes:
        notes = path.with_suffix(".notes")
        notes.write_bytes(camera.notes)
        params.append("-MakerNotes<={}".format(notes))
    tool.set_tags([str(path)], tags, params)
    if camera.notes:
        notes.unlink()
    os.utime(path, (taken.timestamp(), taken.timestamp()))  # the camera wrote the file when it took the photo


def _exif_from(tool, original, target, makernotes=False, **tags):
    """Copy the original's metadata into target, as exporters do (most leave the maker notes out)."""
    args = ["-tagsFromFile", str(original), "-all:all"] + ([] if makernotes else ["--MakerNotes"])
    args += ["-{}={}".format(tag, value) for tag, value in tags.items()]
    tool.execute(*args, "-overwrite_original", str(target))


def _backup(tool, image, original, folder, rng):
    if rng.random() < 0.5:
        target = folder / "Backup" / original.relative_to(folder)
    else:
        target = folder / "NAS" / "Photos {}".format(rng.randint(2016, 2024)) / original.name
    target.parent.mkdir(parents=True, exist_ok=True)
    (shutil.copy2 if rng.random() < 0.5 else shutil.copyfile)(original, target)
    return target


def _format_export(extension):
    def export(tool, image, original, folder, rng):
        target = _encode(image, folder / "Exports" / (original.stem + extension))
        if rng.random() < 0.4:
            _exif_from(tool, original, target)
        return target

    return export


def _lightroom(tool, image, original, folder, rng):
    name = original.stem + rng.choice(("", "-Edit", "-2"))
    target = folder / "Lightroom Exports" / (name + ".jpg")
    with image.clone() as brighter:
        brighter.modulate(brightness=rng.uniform(105, 125), saturation=rng.uniform(95, 115))
        _encode(brighter, target, rng.randint(80, 100), rng.choice((1.0, 1.0, 0.75)))
    _exif_from(tool, original, target, Software="Adobe Photoshop Lightroom Classic 12.{}".format(rng.randint(0, 4)))
    return target


def _watermarked(tool, image, original, folder, rng):
    target = folder / "Watermarked" / (original.stem + rng.choice(("", "_wm", "-watermark")) + ".jpg")
    with image.clone() as marked:
        with Drawing() as text:
            text.fill_color = Color("white")
            text.font_size = marked.height // 12
            marked.annotate("(c) {}".format(rng.choice(("Ana", "Bo", "Chen"))), text, 10, marked.height - 10)
        _encode(marked, target, rng.randint(80, 95))
    if rng.random() < 0.6:
        software = rng.choice(({}, {"Software": "iWatermark Pro 2.5"}))
        _exif_from(tool, original, target, **software)
    return target


def _shifted(tool, image, original, folder, rng):
    """A copy whose dates were moved (a time-zone or clock fix), everything else kept."""
    target = folder / rng.choice(("Trip", "Sorted", "Family")) / original.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, target)
    shift = "{}:00:00".format(rng.randint(1, 12)) if rng.random() < 0.7 else "{} 0:0:0".format(rng.randint(1, 400))
    tool.execute("-AllDates{}={}".format(rng.choice("+-"), shift), "-overwrite_original", str(target))
    return target


def _messenger(tool, image, original, folder, rng):
    received = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
    name = "IMG-{:%Y%m%d}-WA{:04d}.jpg".format(received, rng.randrange(10000))
    return _encode(image, folder / "WhatsApp" / "Media" / "WhatsApp Images" / name, rng.randint(60, 75), 0.6)


def _web(tool, image, original, folder, rng):
    scale = rng.uniform(0.3, 0.7)
    name = rng.choice(("{}-scaled", "{}-1024x768", "photo-{}")).format(original.stem)
    target = _encode(image, folder / rng.choice(("Downloads", "Blog/uploads")) / (name + ".jpg"), 80, scale)
    if rng.random() < 0.3:
        tool.execute("-tagsFromFile", str(original), "-Make", "-Model", "-overwrite_original", str(target))
    return target


def _enhanced(tool, image, original, folder, rng):
    target = folder / "Exports" / (original.stem + rng.choice(("-Enhanced-SR", "_upscaled", "-gigapixel")) + ".jpg")
    _encode(image, target, 92, 2.0)
    software = rng.choice(({}, {"Software": "Topaz Gigapixel AI 6.1"}, {"Software": "Adobe Lightroom 7.0"}))
    _exif_from(tool, original, target, **software)
    return target


def _edit(tool, image, original, folder, rng):
    """An edit kept beside the original: cropped and straightened, its metadata kept (maker notes too)."""
    if original.stem.startswith("IMG_"):
        target = original.with_name(original.stem.replace("IMG_", "IMG_E") + ".JPG")
    else:
        target = folder / "Edits" / (original.stem + " edited.jpg")
    with image.clone() as edited:
        edited.crop(width=int(edited.width * 0.9), height=int(edited.height * 0.9), gravity="center")
        _encode(edited, target, 90)
    _exif_from(tool, original, target, makernotes=True, Software=rng.choice(("Photos 7.0", "Snapseed 2.0")))
    return target


_COPIERS = {
    "backup": _backup,
    "png": _format_export(".png"),
    "webp": _format_export(".webp"),
    "tiff": _format_export(".tif"),
    "lightroom": _lightroom,
    "watermarked": _watermarked,
    "shifted": _shifted,
    "messenger": _messenger,
    "web": _web,
    "enhanced": _enhanced,
    "edit": _edit,
}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m shashin.demo", description="Build the demo library (photos and their copies) in DIR."
    )
    parser.add_argument("folder", metavar="DIR", type=Path, help="a new or empty folder")
    # Absolute: exiftool would read a name starting with "-" as an option.
    folder = parser.parse_args(argv).folder.absolute()
    if folder.exists() and any(folder.iterdir()):
        print("{}: already there, left as it is".format(folder), file=sys.stderr)
        return
    try:
        count = build(folder)
    except OSError as error:
        raise SystemExit("python -m shashin.demo: {}: {}".format(error.filename or folder, error.strerror)) from None
    print("{}: demo library of {} files".format(os.fspath(folder), count), file=sys.stderr)


if __name__ == "__main__":
    main()
