"""KS501-KS506: the logos the areas need are there, PNGs, of Kommo's sizes; every image is
under Kommo's limit."""

from __future__ import annotations

import struct
import zlib

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.context import Context
from kommo_scaffold.check.files import sniff
from kommo_scaffold.check.registry import rule
from kommo_scaffold.check.report import kb

KS501 = rule("KS501", "error", "Required logo missing",
             "Kommo rejects an archive without its logos (logo_dp.png too with "
             "digital_pipeline).", "Add the PNG at the exact size in the message.")
KS502 = rule("KS502", "error", "Logo is not a PNG",
             "Kommo wants PNG logos (its widget tutorial: \"Logo images should be in PNG "
             "format!\"); a JPEG or GIF renamed .png is still not a PNG. Chromium would show "
             "it (it decodes images by content): the rule is Kommo's.",
             "Export the logo as PNG.")
KS503 = rule("KS503", "error", "Image cannot be read",
             "The file is damaged or not an image.", "Export the image again.")
_SIZE_DOUBT = ("Kommo's image page and its public-listing checklist give exact sizes; "
                   "no source shows a private upload refused for a wrong size, so this is a "
                   "warning (kommo pack ships it) rather than an error.")
KS504 = rule("KS504", "warning", "Logo has the wrong size",
             "Kommo's docs give each logo an exact pixel size, and the public-listing "
             "checklist requires it; a logo of another size is scaled or cropped where "
             "Kommo shows it.", "Resize to the size shown.", uncertain=_SIZE_DOUBT)
KS505 = rule("KS505", "warning", "Logo at the pre-2018 amoCRM size",
             "Old amoCRM widgets used half-size logos (e.g. 120x42, 42x42); Kommo's docs and "
             "the public-listing checklist give the current sizes.",
             "Re-export the logo at the size shown (twice the old one).",
             uncertain=_SIZE_DOUBT)
KS506 = rule("KS506", "error", "Image over 300 KB",
             "Kommo limits every image to 300 KB.", "Compress or shrink the image.")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Legacy (pre-2018, non-retina) amoCRM logos were exactly half today's size.
def _legacy_size(size: tuple[int, int], wanted: tuple[int, int]) -> bool:
    return (size[0] * 2, size[1] * 2) == wanted


def check_images(ctx: Context) -> None:
    """KS501-KS506: the logos the areas need, PNG, exact sizes, under 300 KB."""
    codes = ctx.codes
    for name, wanted in areas.logos_for(codes).items():
        file = f"images/{name}"
        if file not in ctx.widget.sizes:
            ctx.add(KS501, f"{name} ({wanted[0]}x{wanted[1]}) is missing", file)
            continue
        content = ctx.widget.data.get(file)
        if content is None:
            continue  # too large to read (KS606)
        if not content.startswith(_PNG_SIGNATURE):
            found = sniff(content)
            kind = f"a {found[0]}" if found else "not a PNG file"
            ctx.add(KS502, f"{name} is {kind}: Kommo wants PNG logos", file)
            continue
        size = _image_size(content)
        if size is None:
            ctx.add(KS503, f"{name} is not a readable PNG", file)
        elif size != wanted:
            w, h = wanted
            if _legacy_size(size, wanted):
                ctx.add(KS505, f"{name} is {size[0]}x{size[1]}, the pre-2018 size; Kommo needs "
                        f"{w}x{h}", file)
            else:
                ctx.add(KS504, f"{name} is {size[0]}x{size[1]}; Kommo needs {w}x{h}", file)
    for file, byte_count in sorted(ctx.widget.sizes.items()):
        is_image = file.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"))
        if is_image and byte_count > areas.MAX_IMAGE_BYTES:
            ctx.add(KS506, f"{kb(byte_count)}; the limit is {kb(areas.MAX_IMAGE_BYTES)}", file)


def _image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height of a well-formed PNG (every chunk's CRC right, IHDR first, image
    data present, IEND last); None otherwise. Read here rather than with Pillow, whose
    import alone costs more than checking a whole widget."""
    if not content.startswith(_PNG_SIGNATURE):
        return None
    at, size = len(_PNG_SIGNATURE), None
    seen: set[bytes] = set()
    while at + 12 <= len(content):
        length, kind = struct.unpack(">I4s", content[at:at + 8])
        end = at + 12 + length
        if end > len(content):
            return None
        data = content[at + 8:end - 4]
        if zlib.crc32(kind + data) != struct.unpack(">I", content[end - 4:end])[0]:
            return None
        if not seen and (kind != b"IHDR" or length != 13):
            return None
        if kind == b"IHDR":
            size = struct.unpack(">II", data[:8])
        seen.add(kind)
        at = end
        if kind == b"IEND":
            break
    if b"IEND" not in seen or b"IDAT" not in seen or size is None or 0 in size:
        return None
    return size[0], size[1]
