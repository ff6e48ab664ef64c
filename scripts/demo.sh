#!/usr/bin/env bash
# The README's first command: set up, then show bearerguard doing its job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" examples
venv="${BEARERGUARD_VENV:-$root/.venv}"
# The demo serves the example APIs of examples/, started from the repository root.
cd "$root"
exec "$venv/bin/bearerguard" demo "$@"
