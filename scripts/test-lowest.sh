#!/usr/bin/env bash
# The lowest-versions run: a fast subset of the tests (generation, add-area, update, plain
# `copier update`, the prompts, the checker's JavaScript reader, `kommo dev`'s watcher) in a
# virtual environment holding the lowest version pyproject.toml allows of each runtime
# dependency ("copier>=9.15,<10" -> copier==9.15), so the declared floors are true.
# scripts/test.sh first (it installs the system packages); arguments go to pytest.
# The environment is kept between runs (folder below, one per set of pins and Python), so a
# second run only reinstalls this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

# pins: `name==lowest` for each runtime dependency, the test tools at what pyproject allows.
mapfile -t pins < <("$python" - <<'EOF'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for requirement in project["dependencies"]:
    name, floor = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+)", requirement).groups()
    print(f"{name}=={floor}")
tools = ("pytest", "pytest-xdist", "pexpect")
for requirement in project["optional-dependencies"]["test"]:
    if re.match(r"[A-Za-z0-9_.-]+", requirement).group() in tools:
        print(requirement)
# The checkout is installed without build isolation: its build backend, and what that needs
# for an editable install.
for requirement in tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]:
    print(requirement)
print("editables")
EOF
)
key=$(printf '%s\n' "$("$python" -VV)" "${pins[@]}" | sha256sum | cut -c1-16)
cache=${KOMMO_LOWEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kommo-scaffold-lowest}
venv=$cache/venv-$key
# Made in place (its scripts name their own folder) and marked complete at the end: an
# interrupted install is made again.
if [[ ! -e $venv/complete ]]; then
  echo "lowest versions: ${pins[*]}" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
  touch "$venv/complete"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -e .
"$venv/bin/python" -m pip check >&2

# The selection: one place, run as node ids (a renamed test fails here loudly).
tests=(
  tests/test_smoke.py
  tests/test_generate.py::test_all_areas_together
  tests/test_generate.py::test_settings_fields
  tests/test_generate.py::test_same_answers_same_bytes
  tests/test_generate.py::test_logos_are_personalised
  tests/test_update.py::test_add_area_cli_no_panel_data_and_personalised_logo
  tests/test_update.py::test_plain_copier_update_adds_an_area
  tests/test_update.py::test_remove_area_asks_about_edited_files_then_deletes
  tests/test_update.py::test_conflict_lists_files_and_exits_3
  tests/test_update_versions.py::test_upgrade_across_two_template_versions
  tests/test_update_versions.py::test_plain_copier_on_second_machine_after_sync_template
  tests/test_cli.py::test_usage_errors_exit_2
  tests/test_cli.py::test_values_are_coerced_as_typer_does
  tests/test_cli_new.py::test_settings_fields_are_asked_one_by_one
  tests/test_cli_new.py::test_data_file_and_data_flags
  tests/test_prompts.py::test_help_is_wrapped_to_the_terminal_not_cut
  tests/test_check_jsparse.py::test_valid_javascript_is_accepted
  tests/test_check_jsparse.py::test_broken_javascript_is_rejected_at_its_line_and_column
  tests/test_check_jsparse.py::test_reads_define_and_nested_callbacks
  tests/test_dev_server.py::test_reload_and_check_events_on_save
)
workers=$(( ($(nproc) * 3 + 1) / 2 ))
unset PYTHONDONTWRITEBYTECODE
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
exec "$venv/bin/python" -m pytest -p xdist -q -n "$workers" --dist worksteal "${tests[@]}" "$@"
