#!/usr/bin/env bash
# The README's second command: set up, then lint, type-check and run every test.
# Exits non-zero on any failure, including a pytest run that collected no tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" dev
venv="${BEARERGUARD_VENV:-$root/.venv}"
cd "$root"

# The browser tests (tests/browser) drive the system's Chromium through Swagger UI; this
# installs what they need when it is missing (a second run only checks). Should it fail,
# the rest still runs and the browser tests fail, saying what is missing.
echo "== browser set-up (Chromium, Swagger UI's files)"
if ! bash "$root/scripts/browser-setup.sh"; then
    echo "The browser set-up failed (see above): the browser tests will fail." >&2
fi

# The Redis replay-store tests (tests/test_redis_replay.py) start their own redis-server;
# this installs Debian's package when it is missing (a second run only checks). Should it
# fail, the rest still runs and the Redis tests fail, saying what is missing.
echo "== redis set-up (redis-server)"
if ! bash "$root/scripts/redis-setup.sh"; then
    echo "The redis set-up failed (see above): the Redis tests will fail." >&2
fi

# The certificate-binding end-to-end test (tests/e2e/test_mtls_nginx.py) runs a real nginx in
# front of the apps; this installs Debian's package when it is missing (a second run only
# checks). Should it fail, the rest still runs and that test fails, saying what is missing.
echo "== nginx set-up (nginx)"
if ! bash "$root/scripts/nginx-setup.sh"; then
    echo "The nginx set-up failed (see above): the nginx end-to-end test will fail." >&2
fi

echo "== ruff"
"$venv/bin/ruff" check src tests examples benchmarks hatch_build.py
"$venv/bin/ruff" format --check src tests examples benchmarks hatch_build.py
echo "== mypy (strict)"
"$venv/bin/mypy"
echo "== pytest"
status=0
"$venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
fi
exit "$status"
