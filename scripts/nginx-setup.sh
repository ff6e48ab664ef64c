#!/usr/bin/env bash
# What the certificate-binding end-to-end test (tests/e2e/test_mtls_nginx.py) needs beyond the
# Python packages: an nginx binary with its SSL module, from Debian's packages (nginx-light
# where the release still has it, else nginx). The test writes its own configuration to a
# temporary folder, runs nginx in the foreground on a free port of 127.0.0.1 and stops it;
# the package's own service is neither needed nor touched.
# Run by scripts/test.sh. A second run only checks, in well under a second. The Debian
# package is installed only when running as root; otherwise it fails, saying what to install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SETUP_NAME="nginx set-up"
# shellcheck source=scripts/_apt.sh
source "$root/scripts/_apt.sh"

# The tests look for nginx on PATH (as here), then in /usr/sbin, where Debian puts it (a
# user's PATH may lack /usr/sbin).
find_nginx() {
    command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

nginx="$(find_nginx)"
if [ -z "$nginx" ]; then
    package=nginx
    if apt-cache show nginx-light >/dev/null 2>&1; then
        package=nginx-light  # the smallest build that has the SSL and proxy modules
    fi
    apt_install "$package"
    nginx="$(find_nginx)"
    if [ -z "$nginx" ]; then
        echo "nginx set-up: the $package package installed no nginx on PATH or in /usr/sbin." >&2
        exit 1
    fi
fi
if ! build="$("$nginx" -V 2>&1)"; then
    echo "nginx set-up: $nginx does not run ($nginx -V failed): $build" >&2
    exit 1
fi
if ! grep -q -- '--with-http_ssl_module' <<<"$build"; then
    echo "nginx set-up: $nginx was built without its SSL module (--with-http_ssl_module)," >&2
    echo "    which the test's TLS listener needs: install Debian's nginx package instead." >&2
    exit 1
fi
echo "nginx: $(head -n 1 <<<"$build")"
