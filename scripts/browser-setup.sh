#!/usr/bin/env bash
# What the browser tests (tests/browser) need beyond the Python packages, fetched once:
#   - Debian's Chromium (/usr/bin/chromium), which Playwright drives: Playwright's own
#     browser downloads are never used;
#   - Swagger UI's files, the npm package swagger-ui-dist (major version 5): FastAPI's /docs
#     loads them from a CDN whose paths are that package's, and the tests answer those
#     requests from tests/browser/.cache/swagger-ui-dist, so that no test needs the network.
# Run by scripts/test.sh. A second run only checks, in well under a second. Debian packages
# are installed only when running as root; otherwise it fails, saying what to install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BEARERGUARD_VENV:-$root/.venv}"
chromium=/usr/bin/chromium
swagger_ui="swagger-ui-dist@5"
assets="$root/tests/browser/.cache/swagger-ui-dist"

SETUP_NAME="browser set-up"
# shellcheck source=scripts/_apt.sh
source "$root/scripts/_apt.sh"

# 1. The browser.
if [ ! -x "$chromium" ]; then
    apt_install chromium
fi
if ! version="$("$chromium" --version 2>/dev/null)"; then
    echo "browser set-up: $chromium does not run ($chromium --version failed)." >&2
    exit 1
fi
echo "browser: $version"

# 2. Swagger UI's files, unpacked into the cache folder (ignored by git). They are unpacked
#    beside it and moved in place last, so a half-finished run never counts as done.
if [ ! -f "$assets/swagger-ui-bundle.js" ] || [ ! -f "$assets/swagger-ui.css" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        apt_install npm
    fi
    mkdir -p "$(dirname "$assets")"
    work="$(mktemp -d "$(dirname "$assets")/.fetch.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "== fetching $swagger_ui (Swagger UI's files) from the npm registry"
    (cd "$work" && npm pack --silent --no-fund --no-audit --no-update-notifier "$swagger_ui" >/dev/null)
    tarballs=("$work"/swagger-ui-dist-*.tgz)
    if [ ! -f "${tarballs[0]}" ]; then
        echo "browser set-up: npm pack $swagger_ui produced no package." >&2
        exit 1
    fi
    tar -xzf "${tarballs[0]}" -C "$work"  # the package's files are in package/
    if [ ! -f "$work/package/swagger-ui-bundle.js" ]; then
        echo "browser set-up: $swagger_ui holds no swagger-ui-bundle.js." >&2
        exit 1
    fi
    rm -rf "$assets"
    mv "$work/package" "$assets"
fi
swagger_version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$assets/package.json" | head -n 1)"
echo "swagger-ui-dist: ${swagger_version:-unknown version} (tests/browser/.cache)"

# 3. The Python side: Playwright comes with the test extra (scripts/bootstrap.sh).
if ! "$venv/bin/python" -c "import playwright.sync_api" >/dev/null 2>&1; then
    echo "browser set-up: Playwright is not installed in $venv:" >&2
    echo "    bash scripts/bootstrap.sh dev    (or pip install -e '.[test]')" >&2
    exit 1
fi
