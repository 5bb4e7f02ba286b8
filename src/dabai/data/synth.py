"""A small synthetic face-mask dataset, drawn on the fly, for tests and the data demo.

Faces are skin-coloured ovals with eyes; ``with_mask`` faces wear a mask over
nose and mouth, ``mask_weared_incorrect`` ones wear it below the nose, and
``without_mask`` ones show a mouth. The same seed always gives the same bytes,
so tests can rely on exact counts.
"""

from __future__ import annotations

import random
from pathlib import Path

from dabai.data.dataset import Box, Dataset, ImageRecord

SAMPLE_CLASSES = ["with_mask", "without_mask", "mask_weared_incorrect"]
# Roughly the real data's imbalance, so check and split have something to show.
CLASS_WEIGHTS = [0.6, 0.28, 0.12]
SKIN = [(241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)]
MASKS = [(235, 240, 245), (90, 140, 220), (40, 40, 40), (120, 200, 190)]


def make_sample_dataset(out_dir: str | Path, n_images: int = 40, seed: int = 0, empty_every: int = 10,
                        near_duplicates: int = 0) -> Dataset:
    """Write a VOC dataset of ``n_images`` JPEGs to ``out_dir`` (new or empty) and return it.

    Every ``empty_every``-th image has no faces (background images must
    survive every tool). ``near_duplicates`` extra images are slightly
    brightened re-encodings of earlier ones, for the duplicate checks.
    """
    from dabai.data.formats import voc
    from dabai.data.imageio import prepare_output_dir

    out = prepare_output_dir(Path(out_dir))
    image_dir = out / "images"
    image_dir.mkdir()
    rng = random.Random(seed)
    records, face_index = [], 0
    for index in range(n_images):
        width, height = rng.choice([(320, 240), (288, 224), (256, 256), (400, 300)])
        canvas = _background(rng, width, height)
        boxes = []
        if empty_every <= 0 or index % empty_every != empty_every - 1:
            for _ in range(rng.randint(1, 4)):
                # The first faces cycle through the classes so even a tiny sample has each one.
                label = (SAMPLE_CLASSES[face_index % 3] if face_index < 9
                         else rng.choices(SAMPLE_CLASSES, CLASS_WEIGHTS)[0])
                box = _place_face(rng, width, height, boxes)
                if box is None:
                    break
                _draw_face(canvas, box, label, rng)
                boxes.append(Box(*box, label=label))
                face_index += 1
        name = f"sample_{index:04d}.jpg"
        canvas.save(image_dir / name, quality=92)
        records.append(ImageRecord(path=(image_dir / name).resolve(), width=width, height=height, boxes=boxes))
    records += _near_duplicates(records, near_duplicates, image_dir, rng)
    ds = Dataset(images=records, classes=list(SAMPLE_CLASSES))
    voc.write_annotations(ds, out)
    return ds


def _background(rng: random.Random, width: int, height: int):
    from PIL import Image, ImageDraw

    top = tuple(rng.randint(60, 200) for _ in range(3))
    bottom = tuple(rng.randint(60, 200) for _ in range(3))
    canvas = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(canvas)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randint(2, 6)):  # some clutter so images differ beyond their faces
        x, y = rng.randrange(width), rng.randrange(height)
        draw.rectangle([x, y, x + rng.randint(10, 80), y + rng.randint(10, 80)],
                       fill=tuple(rng.randint(0, 255) for _ in range(3)))
    return canvas


def _place_face(rng: random.Random, width: int, height: int, taken: list[Box]):
    """A face box (about 3:4) that overlaps no earlier face, or None if none fits after some tries."""
    for _ in range(30):
        w = rng.randint(max(16, width // 10), max(20, width // 4))
        h = int(w * rng.uniform(1.15, 1.35))
        if w >= width or h >= height:
            continue
        x1, y1 = rng.randint(0, width - w - 1), rng.randint(0, height - h - 1)
        box = (float(x1), float(y1), float(x1 + w), float(y1 + h))
        if all(box[2] <= b.x1 or box[0] >= b.x2 or box[3] <= b.y1 or box[1] >= b.y2 for b in taken):
            return box
    return None


def _draw_face(canvas, box, label: str, rng: random.Random) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(canvas)
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    draw.ellipse([x1, y1, x2 - 1, y2 - 1], fill=rng.choice(SKIN))
    eye = max(2, int(w * 0.08))
    for ex in (x1 + w * 0.32, x1 + w * 0.68):
        draw.ellipse([ex - eye, y1 + h * 0.38 - eye, ex + eye, y1 + h * 0.38 + eye], fill=(30, 30, 30))
    nose_y, mouth_y = y1 + h * 0.55, y1 + h * 0.75
    draw.line([(x1 + w / 2, y1 + h * 0.45), (x1 + w / 2, nose_y)], fill=(120, 70, 40), width=max(1, int(w * 0.04)))
    mask_color = rng.choice(MASKS)
    if label == "with_mask":
        draw.rounded_rectangle([x1 + w * 0.18, y1 + h * 0.47, x2 - w * 0.18, y1 + h * 0.9], radius=int(w * 0.1),
                               fill=mask_color)
    elif label == "mask_weared_incorrect":
        draw.line([(x1 + w * 0.4, mouth_y), (x2 - w * 0.4, mouth_y)], fill=(150, 40, 40), width=max(1, int(h * 0.03)))
        draw.rounded_rectangle([x1 + w * 0.2, y1 + h * 0.8, x2 - w * 0.2, y1 + h * 0.98], radius=int(w * 0.06),
                               fill=mask_color)
    else:
        draw.line([(x1 + w * 0.35, mouth_y), (x2 - w * 0.35, mouth_y)], fill=(150, 40, 40), width=max(1, int(h * 0.04)))


def _near_duplicates(records: list[ImageRecord], count: int, image_dir: Path, rng: random.Random) -> list[ImageRecord]:
    from PIL import Image, ImageEnhance

    copies = []
    for k, source in enumerate(rng.sample(records, min(count, len(records)))):
        with Image.open(source.path) as im:
            brighter = ImageEnhance.Brightness(im.convert("RGB")).enhance(1.06)
        name = f"sample_{len(records) + k:04d}.jpg"
        brighter.save(image_dir / name, quality=85)
        boxes = [Box(b.x1, b.y1, b.x2, b.y2, label=b.label) for b in source.boxes]
        copies.append(ImageRecord(path=(image_dir / name).resolve(), width=source.width, height=source.height,
                                  boxes=boxes))
    return copies
