#!/usr/bin/env bash
# What the Redis replay-store tests (tests/test_redis_replay.py) need beyond the Python
# packages: a redis-server binary, Debian's package. The tests start their own server on
# 127.0.0.1 (a free port, a temporary folder, no persistence) and stop it; the package's
# own service is neither needed nor touched.
# Run by scripts/test.sh. A second run only checks, in well under a second. The Debian
# package is installed only when running as root; otherwise it fails, saying what to install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BEARERGUARD_VENV:-$root/.venv}"

SETUP_NAME="redis set-up"
# shellcheck source=scripts/_apt.sh
source "$root/scripts/_apt.sh"

# 1. The server. The tests look for redis-server on PATH (as here), then in /usr/bin and
#    /usr/sbin.
redis_server="$(command -v redis-server || true)"
if [ -z "$redis_server" ]; then
    apt_install redis-server
    redis_server="$(command -v redis-server || true)"
    if [ -z "$redis_server" ]; then
        echo "redis set-up: the redis-server package installed no redis-server on PATH." >&2
        exit 1
    fi
fi
if ! version="$("$redis_server" --version 2>/dev/null)"; then
    echo "redis set-up: $redis_server does not run ($redis_server --version failed)." >&2
    exit 1
fi
echo "redis: $version"

# 2. The Python side: the redis client comes with the redis extra (in the test extra,
#    which scripts/bootstrap.sh installs).
if ! "$venv/bin/python" -c "import redis" >/dev/null 2>&1; then
    echo "redis set-up: the redis client is not installed in $venv:" >&2
    echo "    bash scripts/bootstrap.sh dev    (or pip install -e '.[redis]')" >&2
    exit 1
fi
