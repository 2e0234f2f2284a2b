"""Small generated files for upload tests: real images, a photo with GPS in its EXIF, PNG
decompression bombs (a 1-bit PNG of zeros compresses ~1000:1, so 400 megapixels fit in 48 KB),
and files that only pretend to be something by their name."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image(name: str = "photo.png", fmt: str = "PNG", size=(60, 40)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def jpeg_with_gps(name: str = "IMG_0001.jpg", size=(60, 40)) -> SimpleUploadedFile:
    """A JPEG whose EXIF says: taken by a named camera at a GPS position, rotated 90°."""
    exif = Image.Exif()
    exif[0x010F] = "HomeCam"
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 55.0, 12.0), 3: "E", 4: (116.0, 25.0, 1.0)})
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 10)).save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def png_bomb(
    width: int = 20_000, height: int = 20_000, name: str = "bomb.png"
) -> SimpleUploadedFile:
    """A valid 1-bit PNG of `width`×`height` black pixels (20000² → 400 MP in about 48 KB)."""
    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    content = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data)
    return SimpleUploadedFile(name, content + _chunk(b"IEND", b""), content_type="image/png")


def named(name: str, content: bytes, content_type: str = "") -> SimpleUploadedFile:
    """Any bytes under any name and claimed content type."""
    return SimpleUploadedFile(name, content, content_type=content_type or "image/jpeg")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
