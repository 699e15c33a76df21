"""The docs cannot drift from the code."""

from __future__ import annotations

import re

from conftest import REPO

from kommo_scaffold import docsgen
from kommo_scaffold.answers import load_questions
from kommo_scaffold.templategen import template_root


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_generated_docs_are_current():
    """docs/areas.md and docs/cli.md match `python -m kommo_scaffold.docsgen`."""
    for path, text in docsgen.wanted().items():
        assert path.exists(), path
        assert normalized(path.read_text("utf-8")) == normalized(text), (
            f"{path.name} is stale: run python -m kommo_scaffold.docsgen")


def test_every_answer_key_is_documented():
    documented = (REPO / "docs" / "generating.md").read_text("utf-8")
    for key in load_questions(template_root()):
        assert f"`{key}`" in documented, key


def test_every_question_has_help():
    for key, question in load_questions(template_root()).items():
        assert question.get("help"), key


def test_readme_starts_with_the_two_newcomer_commands():
    lines = (REPO / "README.md").read_text("utf-8").splitlines()
    head = "\n".join(lines[:6])
    assert "pip install . && kommo-new my-widget --defaults" in head
    assert "python -m pytest" in head


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text("utf-8")
    command = re.search(r"&& (python -m pytest[^#\n]*?)\s+#", readme).group(1).strip()
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert command in ci


def test_docs_index_links_exist():
    readme = (REPO / "README.md").read_text("utf-8")
    for link in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (REPO / link).exists(), link
