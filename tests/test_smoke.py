"""It generates a widget with defaults (a quick end-to-end smoke test)."""

import json


def test_defaults_render(make_widget):
    project = make_widget()
    manifest = json.loads((project / "widget" / "manifest.json").read_text("utf-8"))
    assert manifest["widget"]["interface_version"] == 2
    assert manifest["locations"] == ["lcard-1", "settings"]


def test_public_api_resolves():
    """Every name in kommo_scaffold.__all__ is importable."""
    import kommo_scaffold

    for name in kommo_scaffold.__all__:
        assert getattr(kommo_scaffold, name) is not None, name
