"""Decode every image once: is it readable, how big is it really, and what does it look like.

``data check`` needs all three (broken files, size mismatches, duplicates) and
``data split`` needs the look-alike groups, so one pass computes a SHA-256 of
the bytes (exact duplicates) and a perceptual hash of the pixels
(near-duplicates: re-encoded, resized or slightly edited copies).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from dabai.data.progress import progress

# Hamming distance (of 64 bits) at or below which two perceptual hashes are the
# same picture. Measured on the face-mask set: re-encoded copies are at 0-2,
# frames of one burst at 6-8, different photos of the same scene from 10 up,
# and unrelated photos mostly 14 or more apart.
NEAR_DUPLICATE_DISTANCE = 8


@dataclass
class ImageInfo:
    path: Path
    error: str | None = None  # why the image cannot be used, or None
    width: int = 0
    height: int = 0
    sha256: str = ""
    phash: int | None = None  # 64-bit perceptual hash
    exif_rotated: bool = False  # EXIF says display it rotated by 90/270 degrees


def inspect_image(path: Path) -> ImageInfo:
    """Read and fully decode one image; never raises for a bad image, says why in ``error``."""
    from PIL import Image, UnidentifiedImageError

    from dabai.core.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

    info = ImageInfo(path=path)
    try:
        if path.stat().st_size > DEFAULT_MAX_BYTES:
            info.error = f"file is larger than {DEFAULT_MAX_BYTES} bytes; not read"
            return info
        data = path.read_bytes()
    except OSError as exc:
        info.error = f"cannot read file ({exc.strerror})"
        return info
    if not data:
        info.error = "file is empty (0 bytes)"
        return info
    info.sha256 = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the lower limit below applies
            im = Image.open(io.BytesIO(data))
        with im:
            if im.width * im.height > DEFAULT_MAX_PIXELS:  # from the header: refused before decoding
                info.error = (f"image declares {im.width}x{im.height} pixels, more than the limit of "
                              f"{DEFAULT_MAX_PIXELS}; not decoded")
                return info
            im.load()  # decodes every byte: a truncated file fails here, not later in training
            info.width, info.height = im.size
            info.exif_rotated = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
            info.phash = _perceptual_hash(im)
    except UnidentifiedImageError:
        info.error = "not an image file that can be decoded"
    except Image.DecompressionBombError as exc:
        info.error = f"image is too large to decode safely ({exc})"
    except (OSError, SyntaxError, ValueError) as exc:  # PIL's ways of saying "corrupt"
        info.error = f"cannot decode image: {exc}"  # PIL says "image file is truncated (…)" for cut-off files
    return info


def _perceptual_hash(im) -> int:
    import imagehash

    return int(str(imagehash.phash(im.convert("L"))), 16)


def inspect_images(paths: list[Path]) -> list[ImageInfo]:
    return [inspect_image(p) for p in progress(paths, desc="decoding images")]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def hamming_to_all(hashes, value):
    """Bit differences between one 64-bit hash and each of an array of them (uint64), vectorised."""
    import numpy as np

    diff = np.bitwise_xor(hashes, np.uint64(value))
    return np.unpackbits(diff.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def duplicate_groups(infos: list[ImageInfo], max_distance: int = NEAR_DUPLICATE_DISTANCE) -> list[list[int]]:
    """Groups (of indices into ``infos``, each group of 2+) of images that are the same or look the same.

    Grouping is transitive (A~B and B~C puts A, B, C together), which is what a
    split needs: no member of a look-alike chain may land in another split.
    """
    import numpy as np

    parent = list(range(len(infos)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    by_sha: dict[str, int] = {}
    for i, info in enumerate(infos):
        if info.sha256:
            if info.sha256 in by_sha:
                union(i, by_sha[info.sha256])
            by_sha.setdefault(info.sha256, i)
    hashed = [i for i, info in enumerate(infos) if info.phash is not None]
    hashes = np.array([infos[i].phash for i in hashed], dtype=np.uint64)
    for row, i in enumerate(hashed):
        # XOR this hash with all later ones and count differing bits, vectorised.
        counts = hamming_to_all(hashes[row + 1:], hashes[row])
        for offset in np.nonzero(counts <= max_distance)[0]:
            union(i, hashed[row + 1 + int(offset)])
    groups: dict[int, list[int]] = {}
    for i in range(len(infos)):
        groups.setdefault(find(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]
