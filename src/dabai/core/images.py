"""Image files: which files are images, listing them, reading their size, and bounded decoding.

Every place that finds, sizes or decodes an image file goes through here (predict, the Detector, the
gate's QR reader, serve, the benchmarks, the dataset readers and tools, training), so they agree on the
extensions and fail with one error style: a :class:`~dabai.core.errors.DataError` naming the file.

Bounded decoding: every entry point that decodes an untrusted image goes through here.

An image file can declare far more pixels than its bytes suggest (a 115 KB PNG of 40 megapixels, a
2.6 MB PNG of 30000x30000 = 2.7 GB decoded). So the header is read first (PIL reads only the header
on ``Image.open``), the declared width x height is checked against ``max_pixels``, and only then are
the pixels decoded (OpenCV). The file size is checked before anything is read. Every refusal is a
:class:`~dabai.core.errors.DataError` (:class:`ImageTooLarge` for the size limits), never an OpenCV
assertion or a MemoryError.

Used by ``predict`` (and the Detector for paths and bytes), ``gate check``/``pass verify``/``pass
import`` (QR images), ``serve`` (uploads) and the dataset tools that write new pixels.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np

from dabai.core.errors import DataError

DEFAULT_MAX_PIXELS = 40_000_000  # width x height; 40 MP = 120 MB decoded (BGR)
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # an image file larger than this is not read at all
# header formats (as PIL names them) whose pixels OpenCV decodes; anything else is refused up front
DECODABLE = {"JPEG", "MPO", "PNG", "BMP", "DIB", "WEBP", "TIFF", "PPM", "JPEG2000", "GIF"}


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
NOT_AN_IMAGE = "not a readable image (expected JPEG, PNG, BMP, WebP or TIFF)"


def is_image(path: Path) -> bool:
    """Whether ``path`` has an image file extension (any case)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path, required: bool = False) -> list[Path]:
    """Every image under ``folder`` (recursively), sorted so results are reproducible; with ``required``,
    none found is a DataError naming the folder and the extensions looked for."""
    folder = Path(folder)
    found = sorted(p for p in folder.rglob("*") if p.is_file() and is_image(p)) if folder.is_dir() else []
    if required and not found:
        raise DataError("no images found (looked for " + ", ".join(sorted(IMAGE_EXTENSIONS)) + ")", path=folder)
    return found


class ImageTooLarge(DataError):
    """The image declares more pixels (or the file has more bytes) than the limit."""


def declared_size(data: bytes | bytearray | memoryview, source: object | None = None,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` from the header alone; DataError when the bytes are not an image we decode."""
    if len(data) == 0:
        raise DataError("the image is empty (0 bytes)", path=source)
    width, height, fmt = _header(io.BytesIO(data), source, f"more than the limit of {max_pixels} pixels")
    if fmt not in DECODABLE:
        raise DataError(f"not a supported image format ({fmt}; expected JPEG, PNG, BMP, WebP or TIFF)", path=source)
    if width <= 0 or height <= 0:
        raise DataError(f"the image header declares {width}x{height} pixels", path=source)
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image is {width}x{height}, more than the limit of {max_pixels} pixels "
                            "(refused before decoding)", path=source)
    return width, height


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` read from the image file's header alone (fast: no pixels are decoded)."""
    try:
        if path.stat().st_size == 0:
            raise DataError("the image is empty (0 bytes)", path=path)
    except FileNotFoundError:
        raise DataError("image file not found", path=path) from None
    width, height, _ = _header(path, path, "more pixels than PIL reads")
    return width, height


def _header(file, source: object | None, limit: str) -> tuple[int, int, str]:
    """Width, height and format from the header (PIL reads only the header on open); DataError if it is none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # callers apply their own limit
            with Image.open(file) as im:
                return int(im.width), int(im.height), im.format
    except Image.DecompressionBombError as exc:  # PIL's own ceiling (~179 MP)
        raise ImageTooLarge(f"the image declares {limit} ({exc})", path=source) from None
    except FileNotFoundError:
        raise DataError("image file not found", path=source) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error):  # struct: some truncated headers
        raise DataError(NOT_AN_IMAGE, path=source) from None


def decode_bgr(data: bytes | bytearray | memoryview | np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               source: object | None = None) -> np.ndarray:
    """Encoded image bytes -> HxWx3 uint8 BGR, with the declared size checked before decoding."""
    import cv2

    buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    declared_size(memoryview(buf), source, max_pixels)
    try:
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise DataError(f"the image does not decode ({str(exc).strip().splitlines()[-1]})", path=source) from None
    if image is None:
        raise DataError("the image is corrupt or truncated: its header is an image but it does not decode",
                        path=source)
    return image


def read_bgr(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read and decode an image file (non-ASCII paths work), bounded in bytes and declared pixels."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError("image file not found", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read the image ({exc.strerror})", path=path) from None
    if not path.is_file():
        raise DataError("is not a file; expected an image", path=path)
    if size > max_bytes:
        raise ImageTooLarge(f"the file has {size} bytes, more than the limit of {max_bytes}", path=path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"cannot read the image ({exc})", path=path) from None
    return decode_bgr(data, max_pixels=max_pixels, source=path)



def load_image_rgb(source) -> np.ndarray:
    """A path, raw bytes, or an already-decoded BGR array -> RGB uint8 array (files and bytes decoded with
    their declared size checked first)."""
    import cv2

    if isinstance(source, np.ndarray):
        if source.ndim == 2:
            return cv2.cvtColor(source, cv2.COLOR_GRAY2RGB)
        if source.ndim != 3 or source.shape[2] not in (3, 4):
            raise DataError(f"expected an HxWx3 image array, got shape {source.shape}")
        code = cv2.COLOR_BGRA2RGB if source.shape[2] == 4 else cv2.COLOR_BGR2RGB
        return cv2.cvtColor(source, code)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return cv2.cvtColor(decode_bgr(source), cv2.COLOR_BGR2RGB)
    return cv2.cvtColor(read_bgr(source), cv2.COLOR_BGR2RGB)
