"""The rule registry: every finding's ID, severity and the text `--explain` and the docs show.

Rules are declared by ``rule(...)`` next to the code that checks them (one module per rule
family); importing :mod:`kommo_scaffold.check` imports every family, so ``RULES`` is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
FAMILIES = {"KS0": "The checker", "KS1": "manifest.json", "KS2": "Locations and areas",
            "KS3": "script.js and other JavaScript", "KS4": "i18n", "KS5": "Images",
            "KS6": "Files and archive", "KS7": "Public checklist"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    why: str
    fix: str
    example: str = ""
    # Kommo's docs are silent or contradict themselves about this rule (said in its docs).
    uncertain: str = ""
    # `kommo pack` refuses a widget with this finding unless --force (every error does).
    blocks_pack: bool = False

    @property
    def refuses_pack(self) -> bool:
        return self.blocks_pack or self.severity == "error"


RULES: dict[str, Rule] = {}


def by_answer(answer: str) -> str:
    """Where a fix is a kommo-new answer, the command that changes it where the user is:
    ``kommo set`` in a project (it re-renders every file the answer writes), ``-d`` for a
    new one. ``answer`` is KEY=VALUE as typed in a shell."""
    return (f"in a kommo-new project run `kommo set {answer}`; for a new project, "
            f"`kommo-new my-widget -d {answer}`")


def by_area(area: str) -> str:
    """Where a fix is an area more, the command that adds it in a project."""
    return f"in a kommo-new project run `kommo add-area {area}`"


def rule(rule_id: str, severity: Severity, title: str, why: str, fix: str, example: str = "",
         uncertain: str = "", blocks_pack: bool = False) -> str:
    """Register a rule; returns its ID, which the checking code passes to ``Context.add``."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id} declared twice")
    RULES[rule_id] = Rule(rule_id, severity, title, why, fix, example, uncertain, blocks_pack)
    return rule_id


def add_examples(examples: dict[str, str]) -> None:
    """Give the rules declared without an example the one from ``examples``."""
    for rule_id, text in examples.items():
        if rule_id in RULES and not RULES[rule_id].example:
            RULES[rule_id] = replace(RULES[rule_id], example=text)


def ordered() -> list[Rule]:
    return [RULES[key] for key in sorted(RULES)]


def explain(rule_id: str) -> str:
    """What `kommo check --explain RULE` prints; KeyError for an unknown ID."""
    found = RULES[rule_id.strip().upper()]
    lines = [f"{found.id} ({found.severity}): {found.title}", "", f"Why: {found.why}", "",
             f"Fix: {found.fix}"]
    if found.example:
        lines += ["", "Example:", *(f"    {line}" for line in found.example.splitlines())]
    if found.uncertain:
        lines += ["", f"Uncertain: {found.uncertain}"]
    if found.blocks_pack and found.severity != "error":
        lines += ["", "`kommo pack` refuses a widget with this finding unless --force."]
    return "\n".join(lines) + "\n"
