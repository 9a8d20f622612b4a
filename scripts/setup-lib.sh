# Sourced (not run) by scripts/serve, scripts/install-test-deps and scripts/build-all-pythons,
# from the repository's root:
# installs from Debian's packages only what is missing, makes the .venv that serve and
# install-test-deps use, and tells whether an interpreter can build the extension.

# apt-get install "$@", after one apt-get update per run; needs root.
jp_apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "$(basename "$0"): need root to apt-get install $*" >&2
        exit 1
    fi
    if [ -z "${JP_APT_UPDATED:-}" ]; then
        apt-get update -qq
        JP_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Whether the interpreter $1 can make a venv with pip in it (Debian keeps venv and ensurepip
# in python3-venv), and whether it has its C headers (Debian's python3-dev).
jp_has_venv() {
    "$1" -c 'import ensurepip, venv' 2>/dev/null
}
jp_has_headers() {
    "$1" -c 'import os, sysconfig
raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
}

# What building the extension needs: a C compiler with the C library's headers (gcc alone,
# without recommends, has none), and the interpreter $1 with venv (and ensurepip) and its C
# headers, which Debian's own python3 keeps in separate packages (an interpreter built from
# source, such as pyenv's, has both); then .venv made from $1 if there is none.
jp_python_build_deps() {
    local python=$1 missing=()
    if ! command -v cc >/dev/null; then
        missing+=(gcc libc6-dev)
    elif ! printf '#include <stdio.h>\nint main(void) { return 0; }\n' |
        cc -x c - -o /dev/null 2>/dev/null; then
        missing+=(libc6-dev)
    fi
    if ! command -v "$python" >/dev/null; then
        [ "$python" = python3 ] || { echo "$(basename "$0"): no $python" >&2; exit 1; }
        missing+=(python3)
    fi
    [ ${#missing[@]} -eq 0 ] || jp_apt_install "${missing[@]}"
    jp_has_venv "$python" || jp_apt_install python3-venv
    jp_has_headers "$python" || jp_apt_install python3-dev
    [ -x .venv/bin/python ] || "$python" -m venv .venv
}
