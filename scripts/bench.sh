#!/usr/bin/env bash
# The performance benchmarks (docs/performance.md): set up, then run every benchmark and
# print its table of ratios. Arguments go to `python -m benchmarks` (try --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" bench
venv="${BEARERGUARD_VENV:-$root/.venv}"

# The HTTP load benchmark drives the servers with wrk, a C load generator: a Python one
# would saturate its core long before a server does. It comes from Debian's packages.
if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (the HTTP load generator) from the system's packages"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    if command -v apt-get >/dev/null 2>&1; then
        $sudo apt-get install -y -qq wrk >/dev/null || {
            $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq wrk >/dev/null
        }
    elif command -v brew >/dev/null 2>&1; then
        brew install wrk
    else
        echo "Install wrk (https://github.com/wg/wrk) and run this again." >&2
        exit 1
    fi
fi

cd "$root"
exec "$venv/bin/python" -m benchmarks "$@"
