#!/usr/bin/env bash
# Create (or reuse) .venv and install bearerguard with the given extras.
# Sourced by scripts/demo.sh and scripts/test.sh; needs only python3 >= 3.10.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BEARERGUARD_VENV:-$root/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# An editable install keeps the venv in step with the working tree; pip skips
# whatever is already satisfied, so a second run takes seconds.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[$1]"
