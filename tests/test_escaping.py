"""Any text a user types lands escaped for its format and reads back unchanged."""

from __future__ import annotations

import re
import subprocess

import yaml
from widget_assertions import assert_valid_widget, load_json, widget_facts

from kommo_scaffold.catalog import areas

HOSTILE = (
    'Q"uote\' back\\slash\nsecond line </script> {{ 7*7 }} {% raw %} <?php echo 1; ?> '
    "Привет ✓ *_[x](y)# `code` \u2028 */ end"
)
# A URL that passes validation yet carries characters JSON and JS must escape.
HOSTILE_URL = "https://x.example/a\"b'c\\d</script>{{x}}"


def make_hostile(make_widget):
    return make_widget(
        widget_name=HOSTILE,
        widget_code="hostile",
        widget_description=HOSTILE + " description",
        short_description=HOSTILE + " short",
        advanced_title=HOSTILE + " advanced",
        salesbot_handler_name=HOSTILE + " bot",
        left_menu_title=HOSTILE + " menu",
        ai_agent_description=HOSTILE + " agent",
        settings_fields=[{"code": "login", "name": HOSTILE + " field", "type": "text",
                          "required": True}],
        backend_url=HOSTILE_URL,
        locations=list(areas.AREA_CODES),
        locales=["en", "ru"],
    )


def test_json_reads_back_unchanged(make_widget):
    project = make_hostile(make_widget)
    # the hostile name is longer than Kommo's listing limits: the checker rightly warns
    assert_valid_widget(project, allowed_warnings=frozenset({"KS706", "KS707"}))
    for locale in ("en", "ru"):
        i18n = load_json(project / "widget" / "i18n" / f"{locale}.json")
        assert i18n["widget"]["name"] == HOSTILE
        assert i18n["widget"]["description"] == HOSTILE + " description"
        assert i18n["widget"]["short_description"] == HOSTILE + " short"
        assert i18n["widget"]["ai_agent_description"] == HOSTILE + " agent"
        assert i18n["advanced"]["title"] == HOSTILE + " advanced"
        assert i18n["salesbot"]["handler_name"] == HOSTILE + " bot"
        assert i18n["left_menu"]["title"] == HOSTILE + " menu"
        assert i18n["settings"]["login"] == HOSTILE + " field"
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["dp"]["webhook_url"] == HOSTILE_URL + "/dp"
    assert manifest["sms"]["endpoint"] == HOSTILE_URL + "/sms"


def test_javascript_reads_back_unchanged(make_widget):
    """script.js stays valid JS and carries the URL exactly (checked by running it in node)."""
    project = make_hostile(make_widget)
    subprocess.run(["node", "--check", str(project / "widget" / "script.js")], check=True)
    facts = widget_facts(project)
    assert facts["salesbotSteps"][0]["question"][0]["params"]["url"] == HOSTILE_URL + "/salesbot"


def test_yaml_answers_read_back_unchanged(make_widget):
    project = make_hostile(make_widget)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["widget_name"] == HOSTILE
    assert recorded["settings_fields"][0]["name"] == HOSTILE + " field"
    assert recorded["backend_url"] == HOSTILE_URL


def test_markdown_escapes_and_keeps_the_text(make_widget):
    """README.md shows the name as text: every Markdown character escaped, lines folded."""
    project = make_hostile(make_widget)
    heading = (project / "README.md").read_text("utf-8").splitlines()[0]
    assert heading.startswith("# ")
    shown = re.sub(r"\\(.)", r"\1", heading[2:])
    assert shown == re.sub(r"\s*[\r\n\u2028\u2029]+\s*", " ", HOSTILE)
    # nothing Markdown would read as markup is left unescaped
    assert not re.search(r"(?<!\\)[*_`\[\]<>#]", heading[2:])


def test_php_files_lint(make_widget):
    """User text that reaches PHP (if any) never breaks it: php -l passes everywhere."""
    import shutil

    project = make_hostile(make_widget)
    if not shutil.which("php"):
        import pytest

        pytest.skip("php is not installed (CI installs php-cli)")
    for path in (project / "backend").rglob("*.php"):
        subprocess.run(["php", "-l", str(path)], check=True, capture_output=True)


def test_user_text_never_reaches_kommo_twig(make_widget):
    """render_template's markup is a Twig template in Kommo: it stays static, texts go in
    through jQuery .text(), so a name with {{ }} or HTML is shown, not evaluated."""
    project = make_widget(widget_name="{{ 7*7 }} <b>bold</b>", widget_code="twig_safe",
                          locations=["lcard", "llist"])
    calls = [call for call in widget_facts(project)["calls"] if call[0] == "render_template"]
    assert calls
    for _, _, markup in calls:
        assert "{{" not in markup and "<b>" not in markup
        assert markup.startswith('<div class="twig_safe-widget ')
