"""``python -m kommo_scaffold.check --docs``: print docs/checker-rules.md."""

from __future__ import annotations

import sys

from kommo_scaffold.check import rules_markdown


def main(argv: list[str]) -> int:
    if argv == ["--docs"]:
        sys.stdout.write(rules_markdown())
        return 0
    sys.stderr.write("usage: python -m kommo_scaffold.check --docs\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
