"""Copies that change a photo's frame, as archives collect them, with random parameters: for the benchmarks and tests.

Each function takes a decoded photo (a Wand image, left unchanged) and a ``random.Random``, and returns a new image:
the photo cropped to another aspect ratio or off-centre, straightened, bordered or framed, placed inside a phone
screenshot, a slide or a collage, captioned like a meme, or coloured by a phone filter. :data:`KINDS` names them.
"""

import functools
import math
import random

import numpy
from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

#: Aspect ratios (width, height) of the aspect-changing crops.
ASPECTS = {"16x9": (16, 9), "1x1": (1, 1), "4x5": (4, 5), "9x16": (9, 16)}
WORDS = (
    "when the photo finally loads summer vibes best day ever nobody asked me but here we go "
    "this is fine weekend mood look at this view monday again throwback thursday"
).split()


def aspect_crop(image, rng, aspect):
    """The largest crop of this aspect ratio, placed at random along the side it can slide on (middle 60%)."""
    width, height = ASPECTS[aspect]
    crop_width = min(image.width, round(image.height * width / height))
    crop_height = min(image.height, round(image.width * height / width))
    slide = rng.uniform(0.2, 0.8)
    return _cropped(
        image,
        round((image.width - crop_width) * slide),
        round((image.height - crop_height) * slide),
        crop_width,
        crop_height,
    )


def off_centre_crop(image, rng):
    """Each side cut by 0 to 15%, independently."""
    left, right, top, bottom = (rng.uniform(0, 0.15) for _ in range(4))
    x, y = round(image.width * left), round(image.height * top)
    return _cropped(image, x, y, round(image.width * (1 - left - right)), round(image.height * (1 - top - bottom)))


def straightened(image, rng):
    """Turned by 1 to 5 degrees either way, then cropped to the largest centred frame of the same aspect."""
    angle = rng.uniform(1, 5) * rng.choice((-1, 1))
    theta = math.radians(abs(angle))
    w, h = image.width, image.height
    scale = min(w / (w * math.cos(theta) + h * math.sin(theta)), h / (w * math.sin(theta) + h * math.cos(theta)))
    turned = image.clone()
    turned.rotate(angle, background=Color("black"))
    width, height = int(w * scale), int(h * scale)
    turned.crop((turned.width - width) // 2, (turned.height - height) // 2, width=width, height=height)
    return turned


def print_border(image, rng):
    """A white border of 3 to 12% of the short side, the bottom one sometimes wider (an instant print)."""
    side = rng.uniform(0.03, 0.12) * min(image.width, image.height)
    bottom = side * (rng.uniform(2, 4) if rng.random() < 0.3 else 1)
    return _on_canvas(image, "white", round(side), round(side), round(side), round(bottom))


def coloured_frame(image, rng):
    """A frame of a random colour, 2 to 8% of the short side, with a thin mat of another inside it."""
    short = min(image.width, image.height)
    mat = _on_canvas(image, _random_colour(rng), *[max(1, round(rng.uniform(0.005, 0.02) * short))] * 4)
    width = round(rng.uniform(0.02, 0.08) * short)
    framed = _on_canvas(mat, _random_colour(rng), width, width, width, width)
    mat.close()
    return framed


def screenshot(image, rng):
    """The photo in a phone screenshot: status bar, an account name, the photo across the screen (40 to 75% of
    it), a caption and a row of buttons, in a light or a dark theme."""
    dark = rng.random() < 0.5
    background, ink = ("#121212", "#f0f0f0") if dark else ("#ffffff", "#202020")
    width = image.width
    coverage = rng.uniform(0.4, 0.75)
    height = max(round(image.height / coverage), image.height + width // 3)
    canvas = Image(width=width, height=height, background=Color(background))
    bar = max(8, height // 25)
    with Drawing() as draw:
        draw.fill_color = Color(ink)
        draw.font_size = bar * 0.7
        draw.text(width // 20, round(bar * 0.8), "{}:{:02d}".format(rng.randint(7, 23), rng.randint(0, 59)))
        draw.rectangle(left=width * 0.85, top=bar * 0.25, width=width * 0.09, height=bar * 0.5)
        free = height - image.height - bar
        top = bar + round(free * rng.uniform(0.15, 0.5))
        draw.font_size = max(8, bar * 0.8)
        draw.text(width // 20, top - max(4, bar // 3), _phrase(rng, 2))
        draw(canvas)
    canvas.composite(image, left=0, top=top)
    with Drawing() as draw:
        draw.fill_color = Color(ink)
        draw.font_size = max(8, bar * 0.8)
        below = top + image.height
        draw.text(width // 20, below + round(bar * 1.2), _phrase(rng, 4))
        buttons = rng.randint(3, 5)
        for button in range(buttons):
            left = width * (0.05 + 0.9 * button / buttons)
            draw.circle((left + bar * 0.6, below + bar * 2.4), (left + bar * 1.1, below + bar * 2.4))
        draw(canvas)
    return canvas


def slide(image, rng):
    """The photo on a slide (16:9, or 4:3 for a portrait photo), 40 to 60% of it, on one side; the title and
    bullet points on the other."""
    area = image.width * image.height / rng.uniform(0.4, 0.6)
    ratio = 16 / 9 if image.width >= image.height else 4 / 3
    width, height = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
    photo = image.clone()
    scale = min(1.0, width * 0.6 / photo.width, height * 0.9 / photo.height)
    photo.resize(max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    canvas = Image(width=width, height=height, background=_random_colour(rng, light=True))
    margin = round(width * 0.03)
    on_left = rng.random() < 0.5
    left = margin if on_left else width - photo.width - margin
    canvas.composite(photo, left=left, top=(height - photo.height) // 2)
    text_left = left + photo.width + margin if on_left else margin
    with Drawing() as draw:
        draw.fill_color = Color("#202040")
        draw.font_size = max(10, height // 12)
        draw.text(text_left, height // 6, _phrase(rng, 2).title())
        draw.font_size = max(8, height // 22)
        for line in range(4):
            draw.text(text_left, height // 3 + line * height // 8, "- " + _phrase(rng, 2))
        draw(canvas)
    photo.close()
    return canvas


def collage(image, rng, fillers):
    """The photo as the large tile (40 to 60%) of a collage whose other tiles are random cuts of ``fillers``
    (images that are not the photo), with white gutters."""
    coverage = rng.uniform(0.4, 0.6)
    gutter = max(2, round(min(image.width, image.height) * rng.uniform(0.01, 0.04)))
    side_width = round(image.width * (1 - coverage) / coverage)
    width, height = image.width + side_width + 3 * gutter, image.height + 2 * gutter
    canvas = Image(width=width, height=height, background=Color("white"))
    canvas.composite(image, left=gutter, top=gutter)
    tiles = rng.randint(1, 3)
    tile_height = (image.height - (tiles - 1) * gutter) // tiles
    for tile in range(tiles):
        with Image(filename=str(rng.choice(fillers))) as filler:
            filler.transform_colorspace("srgb")
            scale = max(side_width / filler.width, tile_height / filler.height) * rng.uniform(1, 2)
            filler.resize(max(side_width, round(filler.width * scale)), max(tile_height, round(filler.height * scale)))
            x, y = rng.randint(0, filler.width - side_width), rng.randint(0, filler.height - tile_height)
            filler.crop(x, y, width=side_width, height=tile_height)
            canvas.composite(filler, left=image.width + 2 * gutter, top=gutter + tile * (tile_height + gutter))
    return canvas


def meme(image, rng):
    """Large white text with a black outline at the top and the bottom (8 to 14% of the height each)."""
    captioned = image.clone()
    size = image.height * rng.uniform(0.08, 0.14)
    with Drawing() as draw:
        draw.font_size = size
        draw.fill_color = Color("white")
        draw.stroke_color = Color("black")
        draw.stroke_width = max(1, size / 30)
        draw.text_alignment = "center"
        words = max(1, int(image.width / (size * 0.65) / 6))
        draw.text(image.width // 2, round(size * 1.05), _phrase(rng, words).upper())
        draw.text(image.width // 2, image.height - round(size * 0.3), _phrase(rng, words).upper())
        draw(captioned)
    return captioned


def phone_filter(image, rng):
    """A phone filter: saturation up 20 to 60%, a warm tint, and a vignette, each of random strength."""
    filtered = image.clone()
    filtered.modulate(saturation=rng.uniform(120, 160))
    pixels = numpy.asarray(filtered.export_pixels(channel_map="RGB", storage="char"), numpy.float32)
    pixels = pixels.reshape(filtered.height, filtered.width, 3)
    warmth = rng.uniform(0.04, 0.12)
    pixels *= numpy.array([1 + warmth, 1 + warmth / 3, 1 - warmth], numpy.float32)
    y, x = numpy.mgrid[0 : filtered.height, 0 : filtered.width]
    radius = numpy.hypot(
        (x - filtered.width / 2) / (filtered.width / 2), (y - filtered.height / 2) / (filtered.height / 2)
    )
    pixels *= (1 - rng.uniform(0.3, 0.6) * numpy.clip(radius - 0.5, 0, None) ** 2)[..., None]
    filtered.import_pixels(
        width=filtered.width,
        height=filtered.height,
        channel_map="RGB",
        storage="char",
        data=numpy.clip(pixels, 0, 255).astype(numpy.uint8).tobytes(),
    )
    return filtered


def _cropped(image, left, top, width, height):
    cropped = image.clone()
    cropped.crop(left, top, width=max(1, width), height=max(1, height))
    return cropped


def _on_canvas(image, colour, left, top, right, bottom):
    canvas = Image(width=image.width + left + right, height=image.height + top + bottom, background=Color(str(colour)))
    canvas.composite(image, left=left, top=top)
    return canvas


def _random_colour(rng, light=False):
    low = 170 if light else 0
    return Color("rgb({},{},{})".format(*(rng.randint(low, 255) for _ in range(3))))


def _phrase(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words))


#: name -> function(image, rng) making that copy (a collage also takes fillers).
KINDS = {
    **{"aspect_" + aspect: functools.partial(aspect_crop, aspect=aspect) for aspect in ASPECTS},
    "off_centre": off_centre_crop,
    "straightened": straightened,
    "print_border": print_border,
    "coloured_frame": coloured_frame,
    "screenshot": screenshot,
    "slide": slide,
    "collage": collage,
    "meme": meme,
    "phone_filter": phone_filter,
}


def make(kind, image, seed, fillers=()):
    """The copy of this kind of a photo, its random parameters drawn from seed; a collage's other tiles are cut
    from ``fillers`` (paths of images)."""
    if kind == "collage":
        return collage(image, random.Random(seed), list(fillers))
    return KINDS[kind](image, random.Random(seed))
