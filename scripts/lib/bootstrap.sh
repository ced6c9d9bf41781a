# Sourced by scripts/demo and scripts/test: installs what the project needs, once.
# Idempotent and quick when everything is already there (a stamp holds the hash of
# what was installed). Usage: apt_install PACKAGE...; venv_install; axe_install
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing apt packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

venv_install() {
    # One venv for the demo and the tests alike (the test tools are small), so switching
    # between the two commands never reinstalls anything. It holds exactly the locked set
    # (requirements/dev.txt, made by scripts/lock): the versions the tests ran are the
    # versions every machine gets.
    local python="${PYTHON:-python3}" lock="$ROOT/requirements/dev.txt"
    if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
        echo "Python 3.11 or newer is needed (found: $("$python" --version 2>&1))" >&2
        exit 1
    fi
    # evdev ships no wheels: pip builds it, with a compiler and the kernel's input headers.
    apt_install gcc libc6-dev python3-dev
    if [ ! -x "$VENV/bin/python" ]; then
        "$python" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; "$python" -m venv "$VENV"; }
    fi
    local stamp
    stamp="$(sha256sum "$lock" | cut -d' ' -f1)"
    if [ "$(cat "$VENV/.deps-stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "installing the locked Python packages into $VENV" >&2
        "$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$lock" >&2
        echo "$stamp" > "$VENV/.deps-stamp"
    fi
}

# axe-core, the accessibility checker the browser tests inject into each page: from the npm
# registry, pinned with its integrity hash in requirements/npm/package-lock.json (npm ci
# refuses anything else); the tests run it offline from this folder.
AXE_DIR="$VENV/node/node_modules/axe-core"

axe_install() {
    local lock="$ROOT/requirements/npm/package-lock.json" stamp
    stamp="$(sha256sum "$lock" | cut -d' ' -f1)"
    [ -f "$AXE_DIR/axe.min.js" ] && [ "$(cat "$VENV/node/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
    command -v npm >/dev/null || apt_install npm
    echo "installing the locked npm packages (axe-core) into $VENV/node" >&2
    mkdir -p "$VENV/node"
    cp "$ROOT/requirements/npm/package.json" "$lock" "$VENV/node/"
    npm ci --silent --no-audit --no-fund --prefix "$VENV/node" >&2
    echo "$stamp" > "$VENV/node/.stamp"
}
