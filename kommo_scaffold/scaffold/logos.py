"""Placeholder logos at Kommo's exact sizes, drawn with Pillow.

The template ships neutral placeholders (so plain ``copier update`` can add a logo without
Pillow or this package). After generating or adding an area, kommo-scaffold replaces every
logo that is still byte-identical to its placeholder with one personalised from the widget
code: a colour and initials. Output depends only on the inputs (no clock, no randomness), so
the same answers give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from kommo_scaffold.catalog.areas import AREA_LOGOS, BASE_LOGOS

PLACEHOLDER_COLOR = (110, 118, 129)
PLACEHOLDER_TEXT = "LOGO"
ALL_LOGOS: dict[str, tuple[int, int]] = {**BASE_LOGOS, **AREA_LOGOS}


def initials(widget_code: str) -> str:
    """Up to two capital letters from a widget code: deal_helper -> DH, crm -> CR."""
    parts = [part for part in widget_code.split("_") if part]
    if len(parts) >= 2:
        return (parts[0][0] + parts[1][0]).upper()
    word = parts[0] if parts else "w"
    return word[:2].upper()


def color_for(widget_code: str) -> tuple[int, int, int]:
    """A stable, fairly dark colour (white text stays readable) derived from the code."""
    digest = hashlib.sha256(widget_code.encode("utf-8")).digest()
    return (40 + digest[0] % 140, 40 + digest[1] % 140, 40 + digest[2] % 140)


def render_logo(size: tuple[int, int], text: str, color: tuple[int, int, int]) -> bytes:
    """A PNG of ``size`` with ``text`` centred in white on ``color``."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    # Keep a 10 px margin (Kommo asks for it on logo_main) and fit the text inside.
    font_size = max(8, int(min(height * 0.5, (width - 20) / max(1, len(text)) * 1.4)))
    font = ImageFont.load_default(size=font_size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    position = ((width - (right - left)) / 2 - left, (height - (bottom - top)) / 2 - top)
    draw.text(position, text, fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    # optimize=True would save ~100 bytes a logo for 4x the time; sizes are far below 300 KB.
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def placeholder(name: str) -> bytes:
    """The template's placeholder for logo file ``name``."""
    return render_logo(ALL_LOGOS[name], PLACEHOLDER_TEXT, PLACEHOLDER_COLOR)


def personalise(images_dir: Path, widget_code: str, placeholders: dict[str, bytes]) -> list[str]:
    """Replace logos still identical to the template's placeholder; return their names."""
    text, color = initials(widget_code), color_for(widget_code)
    replaced = []
    for name, size in ALL_LOGOS.items():
        target = images_dir / name
        if not target.is_file() or name not in placeholders:
            continue
        if target.read_bytes() != placeholders[name]:
            continue  # the user's own logo: never touch it
        target.write_bytes(render_logo(size, text, color))
        replaced.append(name)
    return replaced


def template_name(name: str) -> str:
    """The file name of logo ``name`` in the template's images folder: an area's logo
    carries the catalog's condition (``{% if has_dp %}logo_dp.png{% endif %}``)."""
    from kommo_scaffold.catalog.templategen import template_paths

    return template_paths().get(f"widget/images/{name}", name).rpartition("/")[2]


def write_placeholders(images_dir: Path) -> None:
    """Maintainer tool: (re)draw the template's placeholder PNGs."""
    for name in ALL_LOGOS:
        (images_dir / template_name(name)).write_bytes(placeholder(name))


if __name__ == "__main__":
    write_placeholders(Path(sys.argv[1]))
