"""The docs cannot drift from the code."""

from __future__ import annotations

import re

from conftest import REPO

from kommo_scaffold.catalog.templategen import template_root
from kommo_scaffold.cli import docsgen
from kommo_scaffold.scaffold.answers import load_questions


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_generated_docs_are_current():
    """docs/areas.md and docs/cli.md match `python -m kommo_scaffold.cli.docsgen`."""
    for path, text in docsgen.wanted().items():
        assert path.exists(), path
        assert normalized(path.read_text("utf-8")) == normalized(text), (
            f"{path.name} is stale: run python -m kommo_scaffold.cli.docsgen")


def test_every_answer_key_is_documented():
    documented = (REPO / "docs" / "generating.md").read_text("utf-8")
    for key in load_questions(template_root()):
        assert f"`{key}`" in documented, key


def test_every_question_has_help():
    for key, question in load_questions(template_root()).items():
        assert question.get("help"), key


def readme_head() -> list[str]:
    """The shell commands of the README's first code block."""
    text = (REPO / "README.md").read_text("utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_starts_with_the_two_newcomer_commands():
    head = (REPO / "README.md").read_text("utf-8").splitlines()[:6]
    assert "```sh" in head
    assert readme_head() == ["pip install . && cd .. && kommo-new my-widget --defaults",
                             "scripts/test.sh"]


def test_the_readme_says_the_test_command_installs_this_checkout_editable():
    """`pip install .` and then scripts/test.sh: kommo becomes this checkout, as edited."""
    head = (REPO / "README.md").read_text("utf-8").split("## ")[0]
    test_line = next(line for line in head.splitlines() if line.startswith("scripts/test.sh"))
    assert "editable" in test_line
    assert "The editable install replaces a `pip install .`" in normalized(head)


def test_every_command_has_a_cli_section_and_a_readme_row():
    cli = (REPO / "docs" / "cli.md").read_text("utf-8")
    readme = (REPO / "README.md").read_text("utf-8")
    table = readme.split("## Commands")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(kommo(?:-new)? [^`]*)`", table, re.M)
    documented = {row.split()[0] if row.startswith("kommo-new") else row.split()[1]
                  for row in rows}
    names = docsgen.command_names()
    assert {"set", "dev", "new", "check"} <= set(names)
    for name in names:
        assert f"\n## kommo {name}\n" in cli, f"docs/cli.md has no section for {name}"
        assert name in documented or (name == "new" and "kommo-new" in documented), (
            f"README's command table has no row for kommo {name}")


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command itself, not a copy of what it does."""
    command = readme_head()[1]
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert re.search(rf"^{re.escape(command)}\b", ci, re.M), ci


def test_the_test_command_installs_what_the_tests_use():
    script = (REPO / "scripts" / "test.sh").read_text("utf-8")
    for package in ("git", "php-cli", "nodejs", "npm", "chromium"):
        assert package in script
    assert "pip install" in script and ".[test]" in script
    # In parallel, with a worker count derived from the machine's cores.
    assert "pytest" in script and "$(nproc)" in script and '-n "$workers"' in script


def test_docs_index_links_exist():
    readme = (REPO / "README.md").read_text("utf-8")
    for link in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (REPO / link).exists(), link


# Written in pieces so this file does not match itself.
INTERNAL = re.compile("|".join([
    "\u00a7",  # section sign: a section of a document the user does not have
    "kommo" + "-spec", "copier" + "-notes", "kommo" + "-devloop", "/work" + "/",
    r"\b[Ii]ssue #?\d", "UNCER" + "TAIN",
]))


def test_no_references_the_user_cannot_see():
    """Docs and comments state facts and public sources, not internal notes or tickets."""
    roots = ["kommo_scaffold", "templates", "docs", "tests", "benchmarks", "scripts", ".ci"]
    files = [REPO / "README.md", REPO / "pyproject.toml"]
    for root in roots:
        files += [p for p in (REPO / root).rglob("*") if p.is_file()
                  and p.suffix not in (".png", ".bundle", ".pyc", ".zip")]
    found = []
    for path in files:
        text = path.read_text("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if INTERNAL.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_rule_fixes_name_the_command_that_changes_an_answer():
    """`kommo check --explain`: a fix that is an answer names `kommo set KEY=...` for a
    project and `kommo-new ... -d KEY=...` for a new one, with keys and areas that exist."""
    from kommo_scaffold import check
    from kommo_scaffold.catalog import areas
    from kommo_scaffold.check.registry import RULES
    from kommo_scaffold.scaffold.reanswer import AREA_KEYS

    check.explain_or_fail("KS001")  # registers every rule family
    questions = load_questions(template_root())
    assert "kommo set backend_url=https://" in RULES["KS114"].fix
    named = 0
    for rule in RULES.values():
        assert not re.search(r"kommo-new:? answer", rule.fix), rule.id
        for key in re.findall(r"`kommo set '?(\w+)=", rule.fix):
            named += 1
            assert key in questions and key not in AREA_KEYS, (rule.id, key)
        new_keys = re.findall(r"`kommo-new \S+ -d '?(\w+)=", rule.fix)
        assert new_keys == re.findall(r"`kommo set '?(\w+)=", rule.fix), rule.id
        for area in re.findall(r"`kommo add-area (\w+)`", rule.fix):
            assert area in areas.AREA_BY_CODE, (rule.id, area)
    assert named >= 5
