"""Hostile text in every field a regular expression reads finishes in linear time.

Each run happens in a subprocess with a generous timeout: a quadratic pattern on a 1 MB
string takes minutes to hours, far past it, while a linear one takes well under a second.
The speed itself is measured in benchmarks/bench_check_hostile.py, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from check_helpers import hostile_texts, hostile_widget
from conftest import TEMPLATE

TIMEOUT = 20  # seconds: generous for a linear pass, hopeless for a quadratic one
SHAPES = hostile_texts()
REPO = Path(__file__).resolve().parent.parent


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=REPO)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_check_finishes_on_hostile_text_fields(tmp_path: Path, shape: str) -> None:
    widget = hostile_widget(tmp_path / "w", SHAPES[shape])
    done = run_python("from kommo_scaffold.cli.app import main; main()", "check", str(widget))
    assert done.returncode in (0, 1), done.stdout[-500:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_json_line_index_is_linear_on_text_that_is_not_json() -> None:
    """The line of a finding in a .json file is looked up with a tokenizer that must not
    rescan the text from every quote of a broken string."""
    done = run_python(
        "import sys\nsys.path.insert(0, 'tests')\nfrom check_helpers import hostile_texts\n"
        "from kommo_scaffold.check.context import json_lines\n"
        "for text in hostile_texts().values():\n    json_lines(text)\nprint('done')")
    assert done.stdout.strip() == "done", done.stderr[-2000:]


ANSWER_FIELDS = ("widget_code", "widget_name", "widget_version", "support_email",
                 "support_link", "backend_url", "dp_webhook_url", "sms_endpoint",
                 "mobile_frame_url", "mobile_color", "left_menu_code", "salesbot_handler_code")


def test_answer_validation_finishes_on_hostile_answers() -> None:
    """answers.validate on every text answer, at 1 MB (refused by size) and at the largest
    size it reads (MAX_TEXT_CHARS), where its patterns run."""
    code = f"""
import sys
sys.path.insert(0, 'tests')
from check_helpers import hostile_texts
from kommo_scaffold.errors import UsageError
from kommo_scaffold.scaffold import answers
for size in (1 << 20, answers.MAX_TEXT_CHARS):
    for text in hostile_texts(size).values():
        for key in {ANSWER_FIELDS!r}:
            data = {{key: text.replace("\\0", "")}}
            if key in ("backend_url", "dp_webhook_url", "sms_endpoint"):
                data["locations"] = ["lcard", "digital_pipeline", "sms"]
            try:
                answers.validate(data)
            except UsageError:
                pass
print("done")
"""
    done = run_python(code)
    assert done.stdout.strip() == "done", done.stderr[-2000:]


def test_template_validators_finish_on_hostile_answers() -> None:
    """copier.yml's Jinja validators (all a user of plain copier has) with 1 MB answers,
    and a hostile recorded backend_url for the derived-endpoint rule."""
    code = f"""
import sys
sys.path.insert(0, 'tests')
import jinja2
from jinja2.sandbox import SandboxedEnvironment
from check_helpers import hostile_texts
env = SandboxedEnvironment(loader=jinja2.FileSystemLoader({str(TEMPLATE)!r}),
                           extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
source = ("{{% from 'validators.jinja' import text_error, widget_code_error, key_error, "
          "version_error, email_error, url_error, derived_error, color_error, "
          "left_menu_code_error %}}"
          "{{{{ text_error('x', v) }}}}{{{{ widget_code_error(v) }}}}{{{{ key_error('x', v) }}}}"
          "{{{{ version_error(v) }}}}{{{{ email_error(v) }}}}{{{{ color_error(v) }}}}"
          "{{{{ url_error('x', v, 'base') }}}}{{{{ url_error('x', v, 'endpoint') }}}}"
          "{{{{ url_error('x', v, 'derived') }}}}{{{{ url_error('x', v, 'link') }}}}"
          "{{{{ left_menu_code_error(v) }}}}"
          "{{{{ derived_error('dp_webhook_url', v ~ '/dp', '/dp', 'https://a.example', "
          "{{'recorded': {{'backend_url': v}}}}, {{'data': {{}}}}) }}}}")
template = env.from_string(source)
for text in hostile_texts().values():
    template.render(v=text)
print("done")
"""
    done = run_python(code)
    assert done.stdout.strip() == "done", done.stderr[-2000:]


def test_the_hostile_widget_is_read_as_written(tmp_path: Path) -> None:
    """The harness puts the text where the checker reads it (else the tests above prove
    nothing): the listing rule sees the long name."""
    widget = hostile_widget(tmp_path / "w", "<" * 5000)
    data = json.loads((widget / "i18n" / "en.json").read_text("utf-8"))
    assert data["widget"]["name"] == "<" * 5000
    done = run_python("from kommo_scaffold.cli.app import main; main()", "check", str(widget),
                      "--format", "json")
    rules = {f["rule"] for f in json.loads(done.stdout)["findings"]}
    assert "KS706" in rules, done.stdout[-1000:]
