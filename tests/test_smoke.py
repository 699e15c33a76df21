"""It generates a widget with defaults (a quick end-to-end smoke test)."""

import json


def test_defaults_render(make_widget):
    project = make_widget()
    manifest = json.loads((project / "widget" / "manifest.json").read_text("utf-8"))
    assert manifest["widget"]["interface_version"] == 2
    assert manifest["locations"] == ["lcard-1", "settings"]
