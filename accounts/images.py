"""Uploaded images: checked before decoding, decoded, re-encoded without metadata.

Order matters: the byte size is checked before anything is read, the pixel count
from the header before any pixel is decoded, the format against an allow-list, and
only then is the image decoded (a truncated file fails here), turned upright by its
EXIF orientation and copied pixel by pixel into a fresh image, so no EXIF, GPS, XMP
or ICC data from the upload can survive into what is stored.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from PIL import Image, ImageOps, UnidentifiedImageError, features

from backend.errors import ImageTooLarge, UnsupportedImage

logger = logging.getLogger(__name__)

# Pillow format names accepted for upload (MPO is the multi-picture JPEG of some cameras).
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
_ACCEPTED_FORMATS = {*ALLOWED_FORMATS, "MPO"}

# Everything is stored in one format; the media view serves exactly these types.
OUTPUT_CONTENT_TYPES = {"webp": "image/webp", "png": "image/png"}

# Errors Pillow raises on broken, truncated or hostile data while decoding.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    struct.error,
)


@dataclass(frozen=True)
class CleanImage:
    """An upload re-encoded without metadata, and its square thumbnail."""

    image: bytes
    thumbnail: bytes
    extension: str
    size: tuple[int, int]


def output_extension() -> str:
    return "webp" if features.check("webp") else "png"


def image_sanitize(*, upload) -> CleanImage:
    """Check, decode and re-encode an upload; raise UNSUPPORTED_IMAGE or IMAGE_TOO_LARGE."""
    _check_byte_size(upload)
    source = _open_checked(upload)
    try:
        clean = _fresh_copy(_upright(source))
        # An avatar needs no more than this; it keeps storage and encoding time small.
        clean.thumbnail((_stored_max_side(), _stored_max_side()), Image.Resampling.LANCZOS)
        thumbnail = ImageOps.fit(
            clean,
            (settings.AVATAR_THUMBNAIL_SIZE, settings.AVATAR_THUMBNAIL_SIZE),
            method=Image.Resampling.LANCZOS,
        )
        extension = output_extension()
        return CleanImage(
            image=_encode(clean, extension),
            thumbnail=_encode(thumbnail, extension),
            extension=extension,
            size=clean.size,
        )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge() from error
    except _DECODE_ERRORS as error:
        raise UnsupportedImage() from error
    finally:
        source.close()


def _check_byte_size(upload) -> None:
    # Only a real uploaded file is an image candidate (the Upload scalar would
    # otherwise pass a JSON string straight through).
    size = getattr(upload, "size", None)
    if not callable(getattr(upload, "read", None)) or not isinstance(size, int):
        raise UnsupportedImage()
    if size > settings.AVATAR_MAX_BYTES:
        raise ImageTooLarge(
            gettext("The file is larger than %(size)s.")
            % {"size": filesizeformat(settings.AVATAR_MAX_BYTES)}
        )
    if size == 0:
        raise UnsupportedImage()


def _open_checked(upload) -> Image.Image:
    """Open (header only), check pixel count and format, then decode the first frame."""
    # Within the byte limit now: read it once, so Pillow never holds (or closes) the upload.
    upload.seek(0)
    data = upload.read(settings.AVATAR_MAX_BYTES + 1)
    if len(data) > settings.AVATAR_MAX_BYTES:
        raise ImageTooLarge()
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge() from error
    except (UnidentifiedImageError, *_DECODE_ERRORS) as error:
        raise UnsupportedImage() from error
    try:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise UnsupportedImage()
        if width * height > settings.AVATAR_MAX_PIXELS:
            raise ImageTooLarge(
                gettext("The image has more than %(count)d pixels.")
                % {"count": settings.AVATAR_MAX_PIXELS}
            )
        if image.format not in _ACCEPTED_FORMATS:
            raise UnsupportedImage()
        # Animated GIF/WebP/PNG: the first frame is the avatar.
        image.seek(0)
        # A large JPEG can be decoded at 1/2, 1/4 or 1/8 scale straight away.
        image.draft(None, (_stored_max_side(), _stored_max_side()))
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        image.close()
        raise ImageTooLarge() from error
    except _DECODE_ERRORS as error:
        image.close()
        raise UnsupportedImage() from error
    except (UnsupportedImage, ImageTooLarge):
        image.close()
        raise
    return image


def _stored_max_side() -> int:
    return getattr(settings, "AVATAR_IMAGE_MAX_SIZE", 1024)


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a malformed EXIF block is ignored, not trusted."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        logger.info("Ignoring an unreadable EXIF orientation", exc_info=True)
        return image


def _fresh_copy(image: Image.Image) -> Image.Image:
    """The pixels only, in RGB or RGBA, in a new image that carries no ``info``."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale PNG: scale to 8 bits before the colour conversion.
        image = image.point(lambda value: value / 256).convert("L")
    converted = image.convert(mode)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def _encode(image: Image.Image, extension: str) -> bytes:
    buffer = io.BytesIO()
    if extension == "webp":
        image.save(buffer, format="WEBP", quality=85, method=4)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
