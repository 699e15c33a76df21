"""KS601-KS603, KS609, KS610, KS612: every text file is UTF-8 without BOM, with LF line endings and
no merge-conflict markers, and every file's content matches its extension. (The rules about
reading the widget, KS604-KS608 and KS611, live with the reader.)"""

from __future__ import annotations

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.context import BOM, Context
from kommo_scaffold.check.js.parser import MERGE_MARKER
from kommo_scaffold.check.registry import rule
from kommo_scaffold.check.report import plural

TEXT_SUFFIXES = (".js", ".json", ".css", ".md", ".twig", ".html", ".txt", ".svg")
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
# Logos (all areas): a logo of another format is KS502, the logo rule.
LOGO_FILES = frozenset(f"images/{name}" for name in areas.logos_for(areas.AREA_CODES))
# Magic numbers of the binary formats a widget folder picks up by mistake.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG image", (".png",)),
               (b"\xff\xd8\xff", "JPEG image", (".jpg", ".jpeg")),
               (b"GIF87a", "GIF image", (".gif",)), (b"GIF89a", "GIF image", (".gif",)),
               (b"PK\x03\x04", "zip archive", (".zip",)),
               (b"%PDF-", "PDF document", (".pdf",)),
               (b"\x00asm", "WebAssembly module", (".wasm",)))
_MAX_MARKERS = 3

KS601 = rule("KS601", "error", "Text file is not UTF-8",
             "Kommo reads all text files as UTF-8.", "Re-save the file as UTF-8.",
             example="i18n/ru.json saved as Windows-1251")
KS602 = rule("KS602", "error", "UTF-8 byte order mark",
             "Kommo requires UTF-8 without BOM; a BOM breaks JSON parsing.",
             "Re-save without BOM.", example="manifest.json starting with EF BB BF")
KS603 = rule("KS603", "warning", "CRLF line endings",
             "Kommo's checklist requires Unix LF line endings in text files.",
             "Convert to LF (e.g. `git config core.autocrlf input`, or your editor).",
             example="script.js saved by an editor set to Windows line endings")
KS609 = rule("KS609", "error", "Merge-conflict markers",
             "The file still holds <<<<<<< / ======= / >>>>>>> lines from an unfinished "
             "merge (for example after `kommo update` stopped on a conflict): JSON and "
             "JavaScript with them do not parse, and other files show them to users.",
             "Resolve the conflict: keep the lines you want, delete the markers.",
             example="<<<<<<< ours\n  render: function () { return true; },\n=======\n"
             "  render: () => true,\n>>>>>>> theirs")
KS610 = rule("KS610", "error", "Content does not match the file extension",
             "The file's bytes are another format than its name says (a PNG named .svg, a "
             "zip named .js): the browser reads an .svg as SVG and a .js as JavaScript, so it "
             "cannot use the file.",
             "Rename the file to its real type or export it again in the right format.",
             example="images/menu.svg that is really a PNG")
KS612 = rule("KS612", "warning", "Image content does not match its extension",
             "A raster image is another format than its name says (a JPEG named .png). "
             "Chromium decodes images by their content, so the page still shows it, but "
             "tools and checks that go by the name (image editors, Kommo's upload checks) "
             "may not. Logos are KS502 instead: Kommo wants PNG logos.",
             "Rename the file to its real type, or export it again as the format its name "
             "says.", example="images/tour_1.png that is really a JPEG")


def sniff(content: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(format, its extensions) for a recognised binary format."""
    for magic, kind, suffixes in _SIGNATURES:
        if content.startswith(magic):
            return kind, suffixes
    return None


def check_files(ctx: Context) -> None:
    """KS601-KS603, KS609, KS610 for every file that was read."""
    for name, content in sorted(ctx.widget.data.items()):
        lower = name.lower()
        found = sniff(content)
        if found is not None and not lower.endswith(found[1]):
            ctx.mismatched.add(name)
            shown = f"is a {found[0]}, not a {lower.rsplit('.', 1)[-1]} file"
            if name in LOGO_FILES:
                continue  # KS502 (images) says so
            raster = found[0].endswith(" image") and lower.endswith(RASTER_SUFFIXES)
            ctx.add(KS612 if raster else KS610, shown, name)
            continue
        if lower.endswith(TEXT_SUFFIXES):
            _check_text(ctx, name, content)


def _check_text(ctx: Context, name: str, content: bytes) -> None:
    if content.startswith(BOM):
        ctx.add(KS602, "starts with a UTF-8 byte order mark", name, 1)
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        ctx.add(KS601, f"byte 0x{content[error.start]:02x} is not UTF-8 (binary file?)",
                name, line)
        return
    if "\x00" in text:
        ctx.add(KS601, "contains NUL bytes: a binary file, not text", name,
                text.count("\n", 0, text.index("\x00")) + 1)
        return
    crlf = text.count("\r\n")
    if crlf:
        line = text.count("\n", 0, text.index("\r\n")) + 1
        ctx.add(KS603, f"{plural(crlf, 'line')} end with CRLF", name, line)
    markers = list(MERGE_MARKER.finditer(content)) if b"<<<<<<<" in content else []
    # A conflict always opens with <<<<<<<; a lone ======= is a Markdown heading underline.
    if any(m.group().startswith(b"<<<<<<<") for m in markers):
        ctx.conflicted.add(name)
        for match in markers[:_MAX_MARKERS]:
            line = content.count(b"\n", 0, match.start()) + 1
            marker = match.group().decode("utf-8", "replace").strip()[:40]
            ctx.add(KS609, f"{marker!r}: an unresolved merge conflict", name, line)
        if len(markers) > _MAX_MARKERS:
            ctx.add(KS609, f"{len(markers) - _MAX_MARKERS} more markers", name)
    ctx.texts[name] = text
