# Sourced by the set-up scripts: apt_install PACKAGE... installs Debian packages as root
# (one apt-get update per run); anyone else is told the command to run, and the script
# stops. Set SETUP_NAME first: it starts every message ("browser set-up", ...).
apt_updated=0
apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "${SETUP_NAME}: missing $*. Install it and run this again, e.g.:" >&2
        echo "    sudo apt-get install $*" >&2
        exit 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
    echo "== installing $* from the system's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
