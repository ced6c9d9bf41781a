# shellcheck shell=bash disable=SC2034  # its settings are read by the scripts sourcing it
# Shared by scripts/install-station, scripts/install-hub and scripts/update (sourced).
#
# Every change goes through one of three functions, so that --dry-run and --root hold:
#   act CMD...   changes files below the install root: printed, run unless --dry-run
#   host CMD...  changes the machine itself (packages, users, services, venvs): printed,
#                run only on a real install (not with --dry-run, not with --root)
#   put DEST MODE < TEXT   writes a file below the root (printed; skipped with --dry-run)
# Paths are always written as on the target; "$(R /etc/x)" is where that is below --root.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT_DIR=""
DRY_RUN=0
VERSION=""
OPT=/opt/warehouse
APP_USER=warehouse
# What a release holds: the code, its scripts, configs, units and docs (never .venv, var/).
RELEASE_FILES=(station hub protocol scripts config systemd docs requirements pyproject.toml README.md)

# A command as one could paste it into a shell (quoted only where it needs to be).
shell_words() {
    local word
    for word in "$@"; do
        if [[ "$word" =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then
            printf ' %s' "$word"
        else
            printf ' %q' "$word"
        fi
    done
}

say() {
    printf '+%s\n' "$(shell_words "$@")"
}

skip() {
    printf -- '- (skipped with --root)%s\n' "$(shell_words "$@")"
}

act() {
    say "$@"
    if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

host() {
    if [ "$DRY_RUN" -eq 1 ]; then
        say "$@"
    elif [ -n "$ROOT_DIR" ]; then
        skip "$@"
    else
        say "$@"
        "$@"
    fi
}

real_install() {
    [ "$DRY_RUN" -eq 0 ] && [ -z "$ROOT_DIR" ]
}

# The target is this machine (a real install or its dry run): its state can be asked.
on_host() {
    [ -z "$ROOT_DIR" ]
}

R() {
    printf '%s%s' "$ROOT_DIR" "$1"
}

die() {
    echo "$(basename "$0"): $*" >&2
    exit 2
}

# Options every deploy script takes; the rest are left in REST for the caller.
parse_common() {
    REST=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --root) ROOT_DIR="$(realpath -m "${2:?--root needs a folder}")"; shift 2 ;;
            --root=*) ROOT_DIR="$(realpath -m "${1#--root=}")"; shift ;;
            --dry-run) DRY_RUN=1; shift ;;
            --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
            --source) SRC="$(realpath "${2:?--source needs a folder}")"; shift 2 ;;
            *) REST+=("$1"); shift ;;
        esac
    done
    if [ "$ROOT_DIR" = "/" ]; then ROOT_DIR=""; fi
    if real_install && [ "$(id -u)" -ne 0 ]; then
        die "run as root (or with --dry-run, or --root DIR to install into a folder)"
    fi
    if [ -z "$VERSION" ]; then VERSION="$(source_version)"; fi
    [[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "bad version '$VERSION'"
}

# A release's own VERSION (code copied from an installed release), else pyproject's
# version plus the commit when the source is a git checkout.
source_version() {
    local version commit
    if [ -f "$SRC/VERSION" ] && ! git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
        cat "$SRC/VERSION"
        return 0
    fi
    version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$SRC/pyproject.toml" | head -n1)"
    if commit="$(git -C "$SRC" rev-parse --short=10 HEAD 2>/dev/null)"; then
        version="$version-g$commit"
        if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
            version="$version-dirty"
        fi
    fi
    printf '%s' "$version"
}

put() {
    local dest="$1" mode="$2"
    printf '+ write %s (mode %s)\n' "$dest" "$mode"
    if [ "$DRY_RUN" -eq 1 ]; then cat >/dev/null; return; fi
    mkdir -p "$(dirname "$(R "$dest")")"
    cat >"$(R "$dest").tmp"
    chmod "$mode" "$(R "$dest").tmp"
    mv -f "$(R "$dest").tmp" "$(R "$dest")"
}

# put a file from the source tree
put_from() {
    put "$2" "$3" <"$SRC/$1"
}

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! on_host || ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    host apt-get update -qq
    host env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The first of these packages apt can install (names differ between Raspberry Pi OS and
# Debian); nothing when apt knows none of them. Below --root the first name stands.
apt_candidate() {
    local pkg
    if ! on_host; then printf '%s' "$1"; return 0; fi
    for pkg in "$@"; do
        if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            printf '%s' "$pkg"
            return 0
        fi
    done
}

# build_packages ROLE: the apt packages pip needs to build what PyPI has no wheel of for
# this machine (what the lock holds, checked in docs/operations.md "Python packages"):
# evdev (station) has no wheel anywhere; on 32-bit Pis (armv7l) msgspec, PyYAML and Pillow
# have none either. Below --root the machine is assumed to be a 64-bit Pi.
build_packages() {
    local role="$1" arch
    arch="$(if on_host; then uname -m; else echo aarch64; fi)"
    local compiler=(gcc libc6-dev python3-dev)
    case "$role:$arch" in
        station:armv7l|station:armv6l) echo "${compiler[*]} libjpeg-dev zlib1g-dev" ;;
        station:*) echo "${compiler[*]}" ;;
        hub:armv7l|hub:armv6l) echo "${compiler[*]}" ;;
        hub:*) ;;
    esac
}

ensure_group() {
    if on_host && getent group "$1" >/dev/null; then return 0; fi
    host groupadd --system "$1"
}

# ensure_user NAME HOME [GROUP,GROUP...]: a system user whose supplementary groups are
# exactly these (usermod -G replaces the list: no more than the service needs).
ensure_user() {
    local name="$1" home="$2" groups="${3:-}" group
    for group in ${groups//,/ }; do ensure_group "$group"; done
    if ! on_host || ! id "$name" >/dev/null 2>&1; then
        host useradd --system --user-group --home-dir "$home" --no-create-home \
            --shell /usr/sbin/nologin "$name"
    fi
    host usermod -G "$groups" "$name"
}

# make_dir PATH MODE [OWNER:GROUP]
make_dir() {
    act install -d -m "$2" "$(R "$1")"
    if [ -n "${3:-}" ]; then host chown "$3" "$1"; fi
}

copy_release_files() {
    local dest="$1" name present=()
    for name in "${RELEASE_FILES[@]}"; do
        if [ -e "$SRC/$name" ]; then present+=("$name"); fi
    done
    tar -C "$SRC" --exclude=__pycache__ --exclude='*.pyc' --exclude=.venv -cf - "${present[@]}" \
        | tar -C "$dest" --no-same-owner -xf -
    chmod -R u=rwX,go=rX "$dest"
    printf '%s\n' "$VERSION" >"$dest/VERSION"
}

# install_release ROLE: the code and its venv in /opt/warehouse/$VERSION, once, from the
# role's locked set (requirements/ROLE.txt: every package pinned with its hashes). A release
# is complete only when its .installed marker exists; a half-made one is made again.
install_release() {
    local role="$1" dest="$OPT/$VERSION"
    if [ -e "$(R "$dest/.installed")" ]; then
        echo "release $VERSION is already installed in $dest"
        return 0
    fi
    if [ -e "$(R "$dest")" ]; then act rm -rf "$(R "$dest")"; fi
    make_dir "$OPT" 0755
    make_dir "$dest" 0755
    act copy_release_files "$(R "$dest")"
    # --system-site-packages: python3-lgpio comes from apt (Raspberry Pi OS), not PyPI.
    # Made only on the target: a venv holds absolute paths and cannot be moved into place.
    host python3 -m venv --system-site-packages "$dest/venv"
    host "$dest/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes -r "$dest/requirements/$role.txt"
    act touch "$(R "$dest/.installed")"
}

# The release `current` points at, or nothing.
current_release() {
    local link
    link="$(R "$OPT/current")"
    if [ -L "$link" ]; then basename "$(readlink "$link")"; fi
}

# switch_to VERSION: `previous` keeps what `current` was, then `current` moves in one
# rename (a relative link, so an install root stays self-contained).
switch_to() {
    local version="$1" was
    was="$(current_release)"
    if [ "$was" = "$version" ]; then
        echo "current is already $version"
        return 0
    fi
    if [ -n "$was" ]; then
        act ln -sfn "$was" "$(R "$OPT/previous")"
    fi
    act ln -sfn "$version" "$(R "$OPT/current.new")"
    act mv -T "$(R "$OPT/current.new")" "$(R "$OPT/current")"
}

install_units() {
    local unit
    for unit in "$@"; do
        put_from "systemd/$unit" "/etc/systemd/system/$unit" 0644
    done
    host systemctl daemon-reload
}

random_secret() {
    python3 -c 'import secrets; print(secrets.token_urlsafe(24))'
}
