#!/usr/bin/env bash
# Run the suite against the newest releases that pyproject.toml's ranges allow, ignoring
# constraints.txt, in a separate environment (.venv-latest). This is how a pin gets moved:
# when this passes, `scripts/lock.sh` can take the new versions. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null   # the system packages; .venv itself is left as it is
# shellcheck source=scripts/python.sh
source scripts/python.sh  # PYTHON: the interpreter setup.sh makes .venv with
[ -x .venv-latest/bin/python ] || "$PYTHON" -m venv .venv-latest
.venv-latest/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv-latest/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e '.[test]' 2>&1 \
  | grep -v 'is ignored' >&2 || true
.venv-latest/bin/python scripts/check_pins.py --report constraints.txt
exec .venv-latest/bin/python -m pytest -q -p no:cacheprovider "$@"
