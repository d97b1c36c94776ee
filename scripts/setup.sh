#!/usr/bin/env bash
# One-command set-up of SPEX for QGIS on Debian 12 (bookworm) or 13 (trixie); `make setup`.
#
# Idempotent: each step checks first and does nothing when its result is already there, so a
# second run takes seconds and needs no network.
#   1. Debian packages (QGIS, PyQGIS, Xvfb, venv, SciPy), only those missing (root or sudo).
#   2. .venv from Debian's /usr/bin/python3 with the system site-packages (PyQGIS and GDAL's
#      Python bindings only exist for Debian's Python; a pyenv/conda python on PATH is ignored).
#   3. .cache/constraints.txt: numpy pinned to the system numpy (GDAL's gdal_array and SciPy
#      are built against it), attrs>=23.2 (Debian's 22.2 breaks affine 3), ml_dtypes<0.6.
#   4. pip install -e '.[models,test]', skipped while .cache/setup.stamp matches the hash of
#      pyproject.toml + constraints; pip's output goes to .cache/pip-install.log.
#   5. The sample data (scripts/sample_data.py).
# PROJ_LIB / PROJ_DATA are deliberately left alone: rasterio bundles its own PROJ database.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
CACHE="$ROOT/.cache"
SYS_PY=/usr/bin/python3
APT_PACKAGES=(qgis python3-qgis qgis-providers xvfb xauth python3-venv python3-scipy)
START=$SECONDS

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- 1. Debian and its packages ---------------------------------------------------------------
[[ -r /etc/debian_version ]] || die "this set-up supports Debian 12 or 13 only (/etc/debian_version not found)"
DEBIAN_VERSION="$(cat /etc/debian_version)"
case "${DEBIAN_VERSION%%.*}" in
    12 | 13) say "Debian $DEBIAN_VERSION" ;;
    *) say "Debian $DEBIAN_VERSION: untested (12 and 13 are supported), continuing" ;;
esac

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == installed ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ "$(id -u)" -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        die "missing Debian packages (${missing[*]}); run this as root or install sudo"
    fi
    say "installing Debian packages: ${missing[*]} (about 1.2 GB for a fresh QGIS)"
    apt_log="$(mktemp)"
    if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "apt-get failed (full log: $apt_log)"
    fi
    rm -f "$apt_log"
else
    say "Debian packages present"
fi

[[ -x "$SYS_PY" ]] || die "$SYS_PY not found; install python3"
SYS_PY_VERSION="$("$SYS_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
SYS_NUMPY="$("$SYS_PY" -c 'import numpy; print(numpy.__version__)')" ||
    die "Debian's python3 cannot import numpy; reinstall python3-numpy"

# --- 2. the virtual environment ----------------------------------------------------------------
venv_ok() {
    # Debian's python, the same minor version, and the system site-packages visible.
    local cfg="$VENV/pyvenv.cfg"
    [[ -x "$VENV/bin/python" && -r "$cfg" ]] || return 1
    grep -Eq '^home = /usr/bin/?$' "$cfg" || return 1
    grep -Eq '^include-system-site-packages = true$' "$cfg" || return 1
    grep -Eq "^version(_info)? = ${SYS_PY_VERSION//./\\.}\\." "$cfg" || return 1
}
if ! venv_ok; then
    if [[ -e "$VENV" ]]; then
        say ".venv was not made from $SYS_PY $SYS_PY_VERSION with system site-packages: recreating it"
        rm -rf "$VENV"
    fi
    say "creating .venv ($SYS_PY $SYS_PY_VERSION, --system-site-packages)"
    "$SYS_PY" -m venv --system-site-packages "$VENV"
    rm -f "$CACHE/setup.stamp"
fi

# --- 3. constraints ------------------------------------------------------------------------------
mkdir -p "$CACHE"
constraints="numpy==$SYS_NUMPY
attrs>=23.2
ml_dtypes<0.6"
if [[ "$SYS_PY_VERSION" == 3.11 ]]; then
    # the CPU wheel of this release may already lie in pip's find-links: no GB download
    constraints+=$'\ntorch==2.13.0'
fi
if [[ ! -f "$CACHE/constraints.txt" || "$(cat "$CACHE/constraints.txt")" != "$constraints" ]]; then
    printf '%s\n' "$constraints" >"$CACHE/constraints.txt"
    say "wrote .cache/constraints.txt (numpy==$SYS_NUMPY)"
fi

# --- 4. Python packages ------------------------------------------------------------------------
stamp="$(cat pyproject.toml "$CACHE/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/spex" && -f "$CACHE/setup.stamp" && "$(cat "$CACHE/setup.stamp")" == "$stamp" ]]; then
    say "Python packages up to date"
else
    say "installing Python packages into .venv (log: .cache/pip-install.log)"
    rm -f "$CACHE/setup.stamp"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
        -c "$CACHE/constraints.txt" -e '.[models,test]' >"$CACHE/pip-install.log" 2>&1; then
        tail -n 20 "$CACHE/pip-install.log" >&2
        die "pip install failed (full log: .cache/pip-install.log)"
    fi
    printf '%s\n' "$stamp" >"$CACHE/setup.stamp"
fi

# --- 5. sample data ----------------------------------------------------------------------------
"$VENV/bin/python" scripts/sample_data.py --root "$CACHE" ||
    die "sample data not available; run \`make data\` once the network is back"

# --- checks ------------------------------------------------------------------------------------
[[ -x "$VENV/bin/spex" ]] || die ".venv/bin/spex is missing; delete .cache/setup.stamp and run again"
versions="$(cd /tmp && QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -c \
    'import qgis.core, spex.engine, numpy, rasterio; print(f"QGIS {qgis.core.Qgis.QGIS_VERSION}, numpy {numpy.__version__}, rasterio {rasterio.__version__}")')" ||
    die "the venv cannot import qgis.core and spex.engine together"
say "ready in $((SECONDS - START)) s: $versions"
