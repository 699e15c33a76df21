"""One definition of a valid widget.version: kommo-new's answers, the checker, `pack --bump`,
and the template's own copier.yml validator all agree."""

from __future__ import annotations

import pytest
import yaml
from conftest import TEMPLATE
from jinja2 import Environment, FileSystemLoader

from kommo_scaffold import check
from kommo_scaffold.catalog import version
from kommo_scaffold.errors import UsageError
from kommo_scaffold.scaffold import answers

VALID = ["1", "1.0", "1.0.0", "0.0.1", "12.345.6789", "1.02.3"]
INVALID = ["", "1.2.3.4", "v1.0.0", "1.0.0-beta", "1..0", ".1", "1.", "1.0.0\n", " 1.0.0",
           "１.0.0", "one"]


@pytest.mark.parametrize("value", VALID)
def test_valid_versions(value):
    assert version.is_valid(value) and version.problem(value) is None
    answers.validate({"widget_version": value})
    assert version.bump(value, "patch")


@pytest.mark.parametrize("value", [*INVALID, 1, 1.0, None])
def test_invalid_versions(value):
    assert not version.is_valid(value) and version.problem(value)
    with pytest.raises(UsageError, match="widget_version"):
        answers.validate({"widget_version": value})
    with pytest.raises(ValueError):
        version.bump(value, "patch")  # type: ignore[arg-type]


def test_bump_parts():
    assert [version.bump("1.2.3", p) for p in version.BUMP_PARTS] == ["1.2.4", "1.3.0",
                                                                       "2.0.0"]
    assert version.bump("7", "minor") == "7.1.0"
    with pytest.raises(ValueError, match="must be one of"):
        version.bump("1.0.0", "huge")


def test_the_checker_uses_the_definition(tmp_path):
    from check_helpers import W

    for value, found in (("1.2.3.4", True), ("1.2.3", False)):
        widget = W(tmp_path / value)
        widget.manifest["widget"]["version"] = value
        assert ("KS113" in check.check_path(widget.build()).rules()) is found


def copier_validator_refuses(value: str) -> bool:
    """Render the template's widget_version validator as copier does (a message = refused)."""
    questions = yaml.safe_load((TEMPLATE / "copier.yml").read_text("utf-8"))
    template = questions["widget_version"]["validator"]
    env = Environment(loader=FileSystemLoader(TEMPLATE),
                      extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    return bool(env.from_string(template).render(widget_version=value).strip())


@pytest.mark.parametrize("value", VALID + INVALID)
def test_copier_validator_agrees(value):
    assert copier_validator_refuses(value) == (not version.is_valid(value)), value
