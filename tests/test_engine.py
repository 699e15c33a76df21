"""engine: the one place that calls copier."""

from __future__ import annotations

from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from kommo_scaffold import engine


def test_each_source_is_compiled_once_per_syntax():
    """The compile cache reuses code only where the environment would generate the same."""
    compiled: list[str] = []
    original = Environment.compile

    def counting(self, source, *args, **kwargs):  # the real compile, counted
        compiled.append(source)
        return original(self, source, *args, **kwargs)

    Environment.compile = counting  # type: ignore[method-assign]
    try:
        with engine._compiled_once():
            plain = [Environment().from_string("{{ a }}-[[ a ]]").render(a=1) for _ in range(3)]
            brackets = Environment(variable_start_string="[[", variable_end_string="]]")
            other = brackets.from_string("{{ a }}-[[ a ]]").render(a=2)
            unsafe = Environment().from_string("{{ a.__class__ }}").render(a=1)
            sandboxed = SandboxedEnvironment().from_string("{{ a.__class__ }}").render(a=1)
            trimmed = Environment(trim_blocks=True).from_string("{% if 1 %}\nx{% endif %}")
    finally:
        Environment.compile = original  # type: ignore[method-assign]
    assert plain == ["1-[[ a ]]"] * 3
    assert other == "{{ a }}-2"
    assert unsafe == "<class 'int'>"
    assert sandboxed == ""  # the sandbox still guards its templates
    assert trimmed.render() == "x"
    assert compiled.count("{{ a }}-[[ a ]]") == 2  # once per syntax, not once per render
    assert Environment.compile is original  # restored after the command
