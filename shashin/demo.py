"""A demo library: real photographs (scikit-image's samples) with the copies a real archive collects.

    python -m shashin.demo DIR

Originals go to DIR/Camera with capture dates and a camera in their EXIF; copies
are spread over Backup/, Exports/, WhatsApp/ and Edits/ the way they pile up in life.
"""

import os
import shutil
import sys
from pathlib import Path

import exiftool
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m shashin.demo DIR")
    folder = Path(argv[0])
    if folder.exists() and any(folder.iterdir()):
        print("{}: already there, left as it is".format(folder), file=sys.stderr)
        return
    count = build(folder)
    print("{}: demo library of {} files".format(os.fspath(folder), count), file=sys.stderr)


if __name__ == "__main__":
    main()
