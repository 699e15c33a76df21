"""kommo pack builds the widget.zip Kommo expects, the same bytes every time."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from check_helpers import W, generated_warnings_ok
from conftest import run_cli

from kommo_scaffold import check
from kommo_scaffold.check import pack


def entries(path):
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def test_pack_project_twice_gives_identical_bytes(make_widget):
    project = make_widget(locations=["lcard", "digital_pipeline", "settings"],
                          backend_url="https://hooks.my-company.io/w")
    first = pack.pack(project)
    data = first.archive.read_bytes()
    os.utime(project / "widget" / "script.js", (1, 1))  # mtimes must not matter
    second = pack.pack(project)
    assert first.archive == project / "dist" / "widget.zip"
    assert second.archive.read_bytes() == data


def test_archive_layout(make_widget):
    """Files at the root, sorted, fixed date and mode; no backend, answers, git or junk."""
    project = make_widget(locations=["digital_pipeline", "lcard"],
                          backend_url="https://hooks.my-company.io/w")
    widget = project / "widget"
    for junk in (".DS_Store", "Thumbs.db", "script.js~", ".script.js.swp", "images/._logo.png"):
        (widget / junk).write_bytes(b"junk")
    (widget / ".git").mkdir()
    (widget / ".git" / "HEAD").write_text("ref")
    (widget / "node_modules" / "x").mkdir(parents=True)
    (widget / "node_modules" / "x" / "index.js").write_text("x")
    result = pack.pack(project)
    infos = entries(result.archive)
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert "manifest.json" in names and "images/logo_dp.png" in names
    assert not any(n.startswith(("widget/", "backend/", ".git", "node_modules")) for n in names)
    assert not any(n.endswith(("~", ".swp", ".DS_Store", "Thumbs.db")) for n in names)
    assert ".copier-answers.yml" not in names
    expected = sorted(p.relative_to(widget).as_posix() for p in widget.rglob("*")
                      if p.is_file() and not check.is_junk(p.relative_to(widget).parts))
    assert names == expected
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_packed_zip_passes_check(make_widget):
    project = make_widget(locations=["lcard", "llist", "settings", "ai_agent"])
    result = pack.pack(project)
    report = check.check_path(result.archive)
    assert not report.errors and not generated_warnings_ok(report), \
        check.format_report(report, "text")
    assert report.kind == "archive"


def test_plain_widget_folder_and_output_option(tmp_path):
    folder = W(tmp_path / "hand-made").build()
    result = pack.pack(folder)
    assert result.archive == folder / "dist" / "widget.zip"
    again = pack.pack(folder)  # dist/ inside the folder never packs itself
    assert "dist/widget.zip" not in [i.filename for i in entries(again.archive)]
    out = tmp_path / "out" / "deep" / "my.zip"
    result = pack.pack(folder, output=out)
    assert out.is_file() and result.archive == out
    assert out.read_bytes() == (folder / "dist" / "widget.zip").read_bytes()


def test_refuses_on_errors_and_writes_nothing(tmp_path):
    widget = W(tmp_path / "w")
    widget.deleted.add("images/logo_main.png")
    folder = widget.build()
    with pytest.raises(pack.PackError, match="KS501"):
        pack.pack(folder, bump="patch")
    assert not (folder / "dist").exists()
    assert json.loads((folder / "manifest.json").read_text())["widget"]["version"] == "1.0.0"
    forced = pack.pack(folder, force=True)
    assert forced.archive.is_file()
    assert "packed despite errors" in forced.summary()


def test_dev_loader_is_refused(tmp_path):
    widget = W(tmp_path / "w")
    widget.script = "define(['https://abc.ngrok-free.app/script.js'], function (w) { return w; });"
    with pytest.raises(pack.PackError, match="KS308"):
        pack.pack(widget.build())


def test_bump_keeps_formatting(tmp_path):
    widget = W(tmp_path / "w")
    folder = widget.build()
    manifest = folder / "manifest.json"
    text = manifest.read_text().replace('"version": "1.0.0"', '"version":   "1.2.9"')
    manifest.write_text(text)
    result = pack.pack(folder, bump="patch")
    assert manifest.read_text() == text.replace('"1.2.9"', '"1.2.10"')
    assert result.version == "1.2.10" and result.bumped_from == "1.2.9"
    with zipfile.ZipFile(result.archive) as archive:
        packed = json.loads(archive.read("manifest.json"))
    assert packed["widget"]["version"] == "1.2.10"
    pack.pack(folder, bump="minor")
    assert '"version":   "1.3.0"' in manifest.read_text()
    pack.pack(folder, bump="major")
    assert '"version":   "2.0.0"' in manifest.read_text()


@pytest.mark.parametrize(("old", "part", "new"), [
    ("1.0.0", "patch", "1.0.1"), ("1.9", "minor", "1.10.0"), ("3", "major", "4.0.0"),
    ("0.0.9", "minor", "0.1.0")])
def test_bump_version(old, part, new):
    assert pack.bump_version(old, part) == new


def test_bump_errors(tmp_path):
    widget = W(tmp_path / "w")
    widget.manifest["widget"]["version"] = "beta"
    folder = widget.build()
    with pytest.raises(pack.PackError, match="cannot bump"):
        pack.pack(folder, bump="patch")
    with pytest.raises(pack.PackUsageError, match="--bump must be"):
        pack.pack(folder, bump="huge")
    assert not (folder / "dist").exists()


def test_pack_errors_are_one_line(tmp_path):
    archive = tmp_path / "w.zip"
    archive.write_bytes(b"PK")
    for target in (tmp_path / "missing", archive, tmp_path):
        result = run_cli("pack", str(target))
        assert result.returncode != 0
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_pack(make_widget, tmp_path):
    project = make_widget(locations=["lcard", "settings"])
    result = run_cli("pack", "--bump", "patch", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Packed" in result.stdout and "dist/widget.zip" in result.stdout
    assert "manifest.json" in result.stdout and "KB" in result.stdout
    assert "1.0.0 -> 1.0.1" in result.stdout
    out = tmp_path / "x.zip"
    assert run_cli("pack", str(project), "-o", str(out)).returncode == 0
    assert run_cli("check", str(out)).returncode == 0


def test_build_tooling_and_secrets_stay_out(tmp_path):
    """A hand-made widget kept in a repo: .env, package.json, lockfiles are not packed."""
    widget = W(tmp_path / "repo")
    widget.raw.update({".env": "SECRET=1\n", "package.json": "{}\n", "package-lock.json": "{}\n",
                       "templates/panel.twig": "<div>{{ name }}</div>\n",
                       "backend/index.php": "<?php\n"})
    folder = widget.build()
    names = [i.filename for i in entries(pack.pack(folder).archive)]
    assert "templates/panel.twig" in names
    assert not {".env", "package.json", "package-lock.json", "backend/index.php"} & set(names)


def test_warnings_do_not_stop_pack(tmp_path):
    widget = W(tmp_path / "w")
    widget.extra_js = "    console.log('x');"
    result = pack.pack(widget.build())
    assert "check: 0 errors, 1 warning" in result.summary()


def git_init(folder):
    from conftest import user_git

    user_git(folder, "init", "-q")
    user_git(folder, "add", "-A")
    user_git(folder, "commit", "-qm", "widget")


@pytest.mark.parametrize("target", ["script.js", "README.md", ".copier-answers.yml",
                                    "notes.txt"])
def test_output_never_overwrites_a_source_file(tmp_path, target):
    widget = W(tmp_path / "w")
    widget.raw.update({"README.md": "# Deal notes\n", "notes.txt": "my notes\n"})
    folder = widget.build()
    (folder / ".copier-answers.yml").write_text("_commit: v0.1.0\n")
    before = (folder / target).read_bytes()
    with pytest.raises(pack.PackError, match=r"not a zip archive|inside the widget folder"):
        pack.pack(folder, output=folder / target)
    assert (folder / target).read_bytes() == before
    result = run_cli("pack", str(folder), "-o", str(folder / target))
    assert result.returncode == 1 and "error: " in result.stderr
    assert (folder / target).read_bytes() == before


def test_output_never_overwrites_a_tracked_zip_but_replaces_its_own(tmp_path):
    folder = W(tmp_path / "w").build()
    out = folder / "dist" / "release.zip"
    first = pack.pack(folder, output=out)
    again = pack.pack(folder, output=out)  # our own earlier archive: replaced
    assert again.archive == first.archive == out
    assert not any(i.filename.startswith("dist/") for i in entries(out))  # never packs itself
    git_init(folder)
    before = out.read_bytes()
    with pytest.raises(pack.PackError, match="tracked by git"):
        pack.pack(folder, output=out)
    assert out.read_bytes() == before


def test_output_inside_the_widget_is_refused(make_widget, tmp_path):
    """The next pack would ship it: only dist/ (never packed) or outside the widget."""
    project = make_widget(locations=["lcard", "settings"])
    with pytest.raises(pack.PackError, match="inside the widget folder"):
        pack.pack(project, output=project / "widget" / "release.zip")
    assert not (project / "widget" / "release.zip").exists()
    assert pack.pack(project, output=project / "release.zip").archive.is_file()
    folder = W(tmp_path / "plain").build()
    with pytest.raises(pack.PackError, match="inside the widget folder"):
        pack.pack(folder, output=folder / "my.zip")


def test_output_symlink_is_refused(tmp_path):
    folder = W(tmp_path / "w").build()
    (tmp_path / "elsewhere.zip").write_bytes(b"")
    link = tmp_path / "link.zip"
    link.symlink_to(tmp_path / "elsewhere.zip")
    with pytest.raises(pack.PackError, match="symbolic link"):
        pack.pack(folder, output=link)


def test_exit_codes_follow_the_convention(tmp_path):
    """0 done, 1 refused, 2 usage error or unreadable input (as check)."""
    folder = W(tmp_path / "w").build()
    assert run_cli("pack", str(tmp_path / "nope")).returncode == 2
    assert run_cli("check", str(tmp_path / "nope")).returncode == 2
    assert run_cli("pack", "--bump", "huge", str(folder)).returncode == 2
    assert run_cli("check", "--format", "xml", str(folder)).returncode == 2
    archive = tmp_path / "w.zip"
    assert run_cli("pack", str(folder), "-o", str(archive)).returncode == 0
    assert run_cli("pack", str(archive)).returncode == 2  # a zip is not a widget folder
    broken = W(tmp_path / "broken")
    broken.deleted.add("images/logo.png")
    result = run_cli("pack", str(broken.build()))
    assert result.returncode == 1 and "KS501" in result.stderr


def test_endpoints_kommo_cannot_reach_stop_pack_unless_forced(tmp_path):
    widget = W(tmp_path / "w")
    widget.add_area("sms")
    widget.manifest["sms"]["endpoint"] = "http://localhost:8000/sms"
    folder = widget.build()
    report = check.check_path(folder)
    assert [f.rule for f in report.findings] == ["KS114"] and not report.errors
    with pytest.raises(pack.PackError, match="KS114"):
        pack.pack(folder)
    assert "packed despite warnings" in pack.pack(folder, force=True).summary()


def test_bump_refuses_what_the_version_definition_refuses(tmp_path):
    widget = W(tmp_path / "w")
    widget.manifest["widget"]["version"] = "1.2.3.4"
    folder = widget.build()
    assert "KS113" in check.check_path(folder).rules()
    with pytest.raises(pack.PackError, match="cannot bump"):
        pack.pack(folder, bump="patch")
    assert json.loads((folder / "manifest.json").read_text())["widget"]["version"] == "1.2.3.4"


def test_conflict_markers_stop_pack(make_widget):
    """What `kommo update` leaves after a conflict: check errors, pack refuses."""
    project = make_widget(locations=["lcard", "settings"])
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    marked = text.replace("      render: function", "<<<<<<< ours\n      render: function", 1)
    marked = marked.replace("      init: function",
                            "=======\n      render: () => true,\n>>>>>>> theirs\n"
                            "      init: function", 1)
    assert marked != text
    script.write_text(marked)
    report = check.check_path(project)
    assert "KS609" in report.rules() and report.errors
    assert "KS304" not in report.rules()
    with pytest.raises(pack.PackError, match="KS609"):
        pack.pack(project)
    assert not (project / "dist").exists()


def test_script_too_large_to_read_is_still_syntax_checked(tmp_path):
    """V8 checks a file of any size: a large valid one is a note and shipped, a large broken
    one an error that pack refuses."""
    widget = W(tmp_path / "w")
    widget.raw["lib/huge.js"] = "var a = [" + "1," * 650_000 + "];\n"
    folder = widget.build()
    assert [f.rule for f in check.check_path(folder).findings] == ["KS316"]
    assert "lib/huge.js" in {i.filename for i in entries(pack.pack(folder).archive)}
    (folder / "lib/huge.js").write_text("var a = [" + "1," * 650_000 + ";\n")
    assert [f.rule for f in check.check_path(folder).findings] == ["KS302"]
    with pytest.raises(pack.PackError, match="KS302"):
        pack.pack(folder)


def test_pack_goes_on_where_the_lock_file_cannot_be_created(tmp_path, monkeypatch,
                                                            render_cache):
    """A read-only checkout can still be packed; a project-changing command refuses."""
    from conftest import copy_project

    from kommo_scaffold.errors import ScaffoldError
    from kommo_scaffold.plumbing import lock

    project = copy_project(render_cache("w", {}), tmp_path / "w")
    real_open = os.open

    def no_lock_file(path, *args, **kwargs):
        if str(path).endswith(lock.LOCK_NAME):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_lock_file)
    result = pack.pack(project, force=True)
    assert result.archive.is_file()
    with pytest.raises(ScaffoldError, match="Cannot open the lock file"), \
            lock.project_lock(project):
        pass
