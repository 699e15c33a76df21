#!/usr/bin/env bash
# Run kommo-scaffold's tests on a fresh Debian or Ubuntu machine, installing what they need:
# the Debian packages the tests drive for real (git; php-cli for `php -l` and `php -S`;
# nodejs and npm for `node --check` and the script.js harness; chromium for browser tests),
# then this checkout with its test extras, then pytest in parallel (pytest-xdist).
# Arguments go to pytest, e.g. scripts/test.sh -x tests/test_pack.py
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "installing ${missing[*]} (apt-get)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

"$python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
# Half again as many workers as cores: the tests spend much of their time waiting for git,
# copier, PHP and Chromium processes (on two cores: 374 s with three workers, 426 s with two).
workers=$(( ($(nproc) * 3 + 1) / 2 ))
# The suite starts hundreds of Python processes: let them keep compiled modules (__pycache__,
# pytest's rewritten test modules) even where the machine switches that off.
unset PYTHONDONTWRITEBYTECODE
# The suite needs no pytest plugin but xdist; others installed on the machine would only add
# to every worker's start-up (and some to the end of the run).
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
exec "$python" -m pytest -p xdist -q -n "$workers" --dist worksteal "$@"
