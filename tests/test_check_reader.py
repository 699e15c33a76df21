"""The widget reader check and pack share: links are never followed (not even when the folder
changes while we read), hostile archives are refused early, odd names are printed escaped,
and check judges exactly the files pack ships."""

from __future__ import annotations

import os
import struct
import threading
import zipfile
from pathlib import Path

import pytest
from check_helpers import W
from conftest import run_cli

from kommo_scaffold import check
from kommo_scaffold.check import pack

SECRET = "TOP-SECRET-OUTSIDE-THE-WIDGET\n"


def packed_names_and_bytes(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_symlinked_style_and_script_are_findings_and_never_packed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    folder = W(tmp_path / "w").build()
    for name in ("style.css", "script.js"):
        (folder / name).unlink()
        (folder / name).symlink_to(secret)
    report = check.check_path(folder)
    links = {f.file for f in report.findings if f.rule == "KS611"}
    assert links == {"style.css", "script.js"}, check.format_report(report, "text")
    assert "KS301" in report.rules()  # and script.js counts as absent, as in the zip
    with pytest.raises(pack.PackError, match="KS611"):
        pack.pack(folder)
    forced = pack.pack(folder, force=True)
    files = packed_names_and_bytes(forced.archive)
    assert "style.css" not in files and "script.js" not in files
    assert not any(SECRET.encode() in data for data in files.values())


def test_symlinked_folder_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.json").write_text('{"root": "x"}\n')
    folder = W(tmp_path / "w").build()
    (folder / "i18n" / "extra").symlink_to(outside, target_is_directory=True)
    report = check.check_path(folder)
    assert "i18n/extra" in {f.file for f in report.findings if f.rule == "KS611"}
    assert not any("passwd" in name for name in report.files)


def test_link_swapped_in_while_packing_never_leaks(tmp_path):
    """A thread keeps swapping style.css between a file and a link to a secret while pack
    runs again and again: the secret never reaches a zip (the reader opens with O_NOFOLLOW
    and checks what it opened)."""
    secret = tmp_path / "secret.css"
    secret.write_text(SECRET)
    folder = W(tmp_path / "w").build()
    style = folder / "style.css"
    stop = threading.Event()

    def swap() -> None:
        link, real = folder / ".link.tmp", folder / ".real.tmp"
        while not stop.is_set():
            link.unlink(missing_ok=True)
            link.symlink_to(secret)
            os.replace(link, style)
            real.write_text(".deal-notes { color: #333; }\n")
            os.replace(real, style)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(40):
            try:
                result = pack.pack(folder, force=True)
            except pack.PackError:
                continue  # refused: fine, nothing written
            for name, data in packed_names_and_bytes(result.archive).items():
                assert SECRET.encode() not in data, name
    finally:
        stop.set()
        swapper.join()


def eocd_zip(path: Path, declared: int, zip64: bool = False) -> Path:
    """A zip whose end record declares ``declared`` entries (nothing else in it)."""
    if zip64:
        record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared,
                             0, 0)
        locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0)
        path.write_bytes(record + locator + end)
    else:
        path.write_bytes(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, declared & 0xFFFF,
                                     declared & 0xFFFF, 0, 0, 0))
    return path


@pytest.mark.parametrize("zip64", [False, True])
def test_zip_declaring_too_many_entries_is_refused_from_its_end_record(tmp_path, zip64):
    declared = 1_000_000 if zip64 else 60_000
    archive = eocd_zip(tmp_path / "many.zip", declared, zip64)
    assert check.reader.zip_entry_count(archive) == declared
    with pytest.raises(check.CheckUsageError, match=f"declares {declared} entries"):
        check.check_path(archive)
    result = run_cli("check", str(archive))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_zip_entry_names_are_printed_escaped(tmp_path):
    archive = tmp_path / "odd.zip"
    files = W(tmp_path / "w").files()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("css/evil\n\x1b[31mred\u202e.css", b"a {\r\n}\r\n")  # KS603 names it
    result = run_cli("check", str(archive))
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "css/evil\\n\\x1b[31mred\\u202e.css:1: KS603" in result.stdout, result.stdout


def test_check_judges_exactly_what_pack_ships(tmp_path):
    """dist/ and backend/ of a plain widget folder are never packed, so never checked."""
    widget = W(tmp_path / "w")
    widget.raw.update({"backend/hooks/broken.js": "var a = ;\n", "dist/old.js": "}}}\n",
                       "lib/helper.js": "define([], function () { return 1; });\n"})
    folder = widget.build()
    report = check.check_path(folder)
    assert not report.findings, check.format_report(report, "text")
    result = pack.pack(folder)
    assert sorted(packed_names_and_bytes(result.archive)) == report.files


def test_unreadable_file_is_a_finding_and_not_packed(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    folder = W(tmp_path / "w").build()
    (folder / "style.css").chmod(0)
    try:
        assert "KS608" in check.check_path(folder).rules()
        with pytest.raises(pack.PackError):
            pack.pack(folder, force=True)
    finally:
        (folder / "style.css").chmod(0o644)


def test_fifo_is_not_read(tmp_path):
    folder = W(tmp_path / "w").build()
    os.mkfifo(folder / "pipe.js")
    report = check.check_path(folder)  # would block forever if opened for reading
    assert "pipe.js" in {f.file for f in report.findings if f.rule == "KS608"}
