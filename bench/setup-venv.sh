#!/usr/bin/env bash
# Make (or reuse) the benchmark harness venv and print its python on the last line of stdout.
#
#   bench/setup-venv.sh [VENV_DIR]      (default: bench/.venv, git-ignored)
#
# Idempotent: an existing venv is reused and brought up to bench/requirements.txt.
# The reference tracker (madmom 0.16.1) lives in its own venv: see ../shared/tools/setup-madmom.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${1:-$here/.venv}
py=${PYTHON:-python3}

[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
vpy="$venv/bin/python"
"$vpy" -m pip install -q --upgrade pip >&2
"$vpy" -m pip install -q -r "$here/requirements.txt" >&2
"$vpy" -c 'import mir_eval, numpy, scipy, sys
print("mir_eval", mir_eval.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__, file=sys.stderr)'
echo "$vpy"
