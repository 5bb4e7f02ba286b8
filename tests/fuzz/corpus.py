"""Seeded hostile inputs for the fuzz tests: truncated, oversized-declared, malformed and hostile files.

Everything is generated from a seed (``random.Random``) on the spot, in well under a second; nothing is
downloaded or stored. Each generator yields ``(name, bytes)``.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib

SEED = 20


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int, payload: bytes = b"\x00" * 64) -> bytes:
    """A PNG whose header declares width x height but which carries almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(payload)) + _chunk(b"IEND", b"")


def valid_jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def valid_png(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A valid small JPEG whose SOF marker is patched to declare width x height."""
    data = bytearray(valid_jpeg())
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            struct.pack_into(">HH", data, at + 5, height, width)
            break
    return bytes(data)


def bmp_declaring(width: int, height: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 16, 2835, 2835, 0, 0)
    return header + info + b"\x00" * 16


def tiff_declaring(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\x00" * 4
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\x00" * 16 + ifd


def images(rng: random.Random | None = None):
    """Hostile image files (plus two valid ones, which must still work)."""
    rng = rng or random.Random(SEED)
    jpeg, png = valid_jpeg(), valid_png()
    yield "valid.jpg", jpeg
    yield "valid.png", png
    yield "empty.jpg", b""
    yield "one-byte.png", b"\x89"
    yield "text.jpg", b"this is not an image\n" * 10
    yield "random.png", rng.randbytes(4096)
    for cut in (8, 30, len(png) // 2, len(png) - 5):
        yield f"png-cut-{cut}.png", png[:cut]
    for cut in (2, 20, len(jpeg) // 3, len(jpeg) - 2):
        yield f"jpeg-cut-{cut}.jpg", jpeg[:cut]
    for i in range(6):
        flipped = bytearray(jpeg)
        for _ in range(8):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        yield f"jpeg-bitflip-{i}.jpg", bytes(flipped)
    yield "png-39mp-declared.png", png_declaring(6300, 6300)  # under the cap: decodes, bounded memory
    yield "png-10000x10000.png", png_declaring(10000, 10000)
    yield "png-30000x30000.png", png_declaring(30000, 30000)
    yield "png-65535x65535.png", png_declaring(65535, 65535)
    yield "png-1x2000000000.png", png_declaring(1, 2_000_000_000)
    yield "png-0x0.png", png_declaring(0, 0)
    yield "jpeg-65500x65500.jpg", jpeg_declaring(65500, 65500)
    yield "jpeg-0x0.jpg", jpeg_declaring(0, 0)
    yield "bmp-50000x50000.bmp", bmp_declaring(50000, 50000)
    yield "bmp-negative.bmp", bmp_declaring(-5, -2**31)
    yield "tiff-40000x40000.tif", tiff_declaring(40000, 40000)
    yield "gif-header-only.gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00" * 7
    yield "webp-garbage.webp", b"RIFF" + struct.pack("<I", 2**31) + b"WEBPVP8 " + rng.randbytes(64)
    yield "png-bad-crc.png", png[:20] + b"\x00\x00\x00\x00" + png[24:]


def _voc(objects: str, size: str = "<width>64</width><height>48</height>") -> str:
    return f"<annotation>\n<filename>a.jpg</filename>\n<size>{size}<depth>3</depth></size>\n{objects}</annotation>\n"


def _obj(name: str = "with_mask", box=("1", "2", "30", "40")) -> str:
    x1, y1, x2, y2 = box
    return (f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>"
            f"<ymax>{y2}</ymax></bndbox></object>\n")


def voc_files(rng: random.Random | None = None):
    rng = rng or random.Random(SEED)
    good = _voc(_obj())
    laughs = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    yield "valid", good.encode()
    yield "billion-laughs", ("<!DOCTYPE annotation [" + "".join(laughs) + "]>" + _voc(_obj("&l9;"))).encode()
    yield "quadratic-blowup", ('<!DOCTYPE annotation [<!ENTITY a "' + "x" * 50000 + '">]>'
                               + _voc(_obj("&a;" * 200))).encode()
    yield "external-entity", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><annotation>&x;</annotation>'
    yield "empty", b""
    yield "binary", rng.randbytes(2048)
    yield "not-utf8", good.encode("utf-16")
    yield "deep-nesting", ("<annotation>" + "<a>" * 20000 + "</a>" * 20000 + "</annotation>").encode()
    yield "many-objects", _voc(_obj() * 5000).encode()
    for cut in (5, len(good) // 2, len(good) - 3):
        yield f"cut-{cut}", good.encode()[:cut]
    for box in (("nan", "1", "2", "3"), ("1e999", "0", "1", "1"), ("-1e308", "0", "1e308", "1"), ("1", "2", "", "4"),
                ("9" * 5000, "0", "1", "1"), ("0x10", "1", "2", "3")):
        yield f"box-{box[0][:8]}", _voc(_obj(box=box)).encode()
    yield "size-huge", _voc(_obj(), "<width>999999999999</width><height>-4</height>").encode()
    yield "name-huge", _voc(_obj("m" * 100000)).encode()
    yield "wrong-root", b"<html><body/></html>"


def coco_files(rng: random.Random | None = None):
    rng = rng or random.Random(SEED)
    good = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 20, 30]}],
            "categories": [{"id": 1, "name": "with_mask"}]}

    def variant(**changes):
        doc = json.loads(json.dumps(good))
        for key, value in changes.items():
            section, _, field = key.partition("__")
            if field:
                doc[section][0][field] = value
            else:
                doc[section] = value
        return json.dumps(doc).encode()

    yield "valid", json.dumps(good).encode()
    yield "empty", b""
    yield "binary", rng.randbytes(2048)
    yield "deep-nesting", b'{"images": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    yield "huge-int", b'{"images": [{"id": ' + b"9" * 100000 + b', "file_name": "a.jpg"}]}'
    yield "top-level-list", b"[1, 2, 3]"
    yield "cut", json.dumps(good).encode()[:40]
    yield "nan-bbox", variant(annotations__bbox=[float("nan"), 0, 1, 1])
    yield "inf-bbox", json.dumps(good).replace("[1, 2, 20, 30]", "[1e999, 2, 20, 30]").encode()
    yield "short-bbox", variant(annotations__bbox=[1, 2])
    yield "string-bbox", variant(annotations__bbox="1,2,3,4")
    yield "object-bbox", variant(annotations__bbox={"x": 1})
    yield "images-dict", variant(images={"a": 1})
    yield "image-id-list", variant(images__id=[1])
    yield "file-name-traversal", variant(images__file_name="../../../../etc/passwd")
    yield "file-name-absolute", variant(images__file_name="/etc/passwd")
    yield "width-string", variant(images__width="wide")
    yield "category-none", variant(categories=[None])
    yield "category-id-dict", variant(categories=[{"id": {"a": 1}, "name": "x"}])
    yield "annotation-image-id-dict", variant(annotations__image_id={"a": 1})
    yield "annotations-20k", variant(annotations=[{"id": i, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}
                                                  for i in range(20000)])


def text_label_files(kind: str, rng: random.Random | None = None):
    """YOLO (``class cx cy w h``) or KITTI (15 fields) label files."""
    rng = rng or random.Random(SEED)
    good = "0 0.5 0.5 0.25 0.25\n" if kind == "yolo" else \
        "with_mask 0.00 0 0.00 1.00 2.00 30.00 40.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00\n"
    fields = good.split()
    yield "valid", good.encode()
    yield "empty", b""
    yield "binary", rng.randbytes(2048)
    yield "not-utf8", "\u4e2d\u6587".encode("gbk") + b"\xff\xfe"
    yield "blank-lines", b"\n\n\n   \n"
    yield "one-field", b"0\n"
    yield "too-many-fields", (good.strip() + " 1" * 50 + "\n").encode()
    yield "long-line", (" ".join(["1"] * 200000) + "\n").encode()
    yield "many-lines", (good * 20000).encode()
    for bad in ("nan", "inf", "-inf", "1e999", "-1", "9" * 5000, "0x1", "", "1_000"):
        mutated = list(fields)
        mutated[1 if kind == "yolo" else 4] = bad or "''"
        yield f"field-{bad[:8] or 'blank'}", (" ".join(mutated) + "\n").encode()
    if kind == "yolo":
        yield "class-huge", b"99999999999999999999 0.5 0.5 0.1 0.1\n"
        yield "class-negative", b"-3 0.5 0.5 0.1 0.1\n"
        yield "class-float", b"1.5 0.5 0.5 0.1 0.1\n"
    else:
        yield "class-weird", ("\x00\u202e" + good[9:]).encode()
    for i in range(8):
        junk = " ".join(rng.choice(["0", "1", "-", ".", "e", "nan", "\t", "x", "0.5", "１"]) for _ in range(rng.randint(1, 20)))
        yield f"random-{i}", (junk + "\n").encode()


def wav(frames: int = 1600, rate: int = 16000, channels: int = 1, bits: int = 16, data_size: int | None = None,
        riff_size: int | None = None, fmt_code: int = 1) -> bytes:
    block = channels * bits // 8
    body = b"\x00" * (frames * block)
    fmt = struct.pack("<HHIIHH", fmt_code, channels, rate, rate * block, block, bits)
    data_len = len(body) if data_size is None else data_size
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_len) + body
    return b"RIFF" + struct.pack("<I", (4 + len(chunks)) if riff_size is None else riff_size) + b"WAVE" + chunks


def audio_files(rng: random.Random | None = None):
    rng = rng or random.Random(SEED)
    good = wav()
    yield "valid.wav", good
    yield "empty.wav", b""
    yield "random.wav", rng.randbytes(4096)
    yield "header-only.wav", good[:44]
    for cut in (4, 12, 30, len(good) // 2):
        yield f"cut-{cut}.wav", good[:cut]
    yield "data-size-4gb.wav", wav(data_size=0xFFFFFFF0)
    yield "riff-size-4gb.wav", wav(riff_size=0xFFFFFFFF)
    yield "rate-zero.wav", wav(rate=0)
    yield "rate-huge.wav", wav(rate=2_000_000_000)
    yield "channels-65535.wav", wav(channels=255, frames=2)
    yield "bits-7.wav", wav(bits=7)
    yield "format-unknown.wav", wav(fmt_code=0x1234)
    yield "no-samples.wav", wav(frames=0)
    yield "text.mp3", b"ID3" + b"\x00" * 7 + rng.randbytes(500)
    yield "ogg-garbage.ogg", b"OggS" + rng.randbytes(1000)
    yield "flac-garbage.flac", b"fLaC" + rng.randbytes(1000)


def pass_texts(genuine: str, rng: random.Random | None = None, count: int = 300):
    """QR payloads: garbage, near-misses of the Dabai format, and mutations of a genuine pass."""
    from dabai.gate import payload as codec

    rng = rng or random.Random(SEED)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    fixed = ["", "DB", "DB1", "DB1:", "DB2:ABC", "db1:" + genuine[4:], "DB1:" + "0" * 5000, "DB1:" + "%" * 300,
             "https://evil.example/DB1:", "DB1:\x00\x00", "DB1:中文", genuine[:-1], genuine[:-3], genuine + "00",
             genuine + genuine[4:], "DB1:" + genuine[4:].lower(), "\ufeff" + genuine, genuine.replace("DB1:", "DB1:\n")]
    yield from fixed
    raw = codec.b45decode(genuine[4:])
    for _ in range(count):
        choice = rng.random()
        if choice < 0.3:  # random Base45 of random length
            yield "DB1:" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        elif choice < 0.8:  # a genuine pass with a few bits flipped (signature must catch it)
            flipped = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            yield "DB1:" + codec.b45encode(bytes(flipped))
        else:  # random unicode
            yield "".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(rng.randint(0, 80)))
