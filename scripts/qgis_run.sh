#!/usr/bin/env bash
# `make qgis-run ARGS='INPUT=… PROMPT=… OUTPUT_MASK=… OUTPUT_FEATURES=…'`: run
# `qgis_process run spex:extract_land_cover` headless in real QGIS and print its outputs.
#
# QGIS runs with a throwaway profile (QGIS_CUSTOM_CONFIG_PATH) in which the plugin is found
# through QGIS_PLUGINPATH (a symlink `spex` -> this repository) and enabled; the venv's
# site-packages go on PYTHONPATH so the engine's packages (rasterio, ...) are importable.
# Parameters come as KEY=VALUE arguments, or in $ARGS (shell quoting honoured). ALGORITHM=
# picks another algorithm (default spex:extract_land_cover); JSON=1 prints qgis_process's JSON.
set -euo pipefail
# No cd: relative paths in the parameters stay relative to the caller's folder.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"

die() { printf 'qgis-run: %s\n' "$*" >&2; exit 2; }

# Debian's qgis_process wrapper passes --noversioncheck, which qgis_process.bin rejects (3.22).
QGIS_PROCESS="$(command -v qgis_process.bin || command -v qgis_process || true)"
[[ -n "$QGIS_PROCESS" ]] || die "qgis_process not found; run 'make setup' (installs QGIS)"
[[ -x "$PY" ]] || die ".venv not found; run 'make setup'"

params=("$@")
if ((${#params[@]} == 0)) && [[ -n "${ARGS:-}" ]]; then
    mapfile -t params < <("$PY" -c 'import os, shlex; print("\n".join(shlex.split(os.environ["ARGS"])))')
fi
((${#params[@]})) || die "give parameters, e.g. make qgis-run ARGS='INPUT=scene.tif PROMPT=\"extract the water bodies\" OUTPUT_MASK=mask.tif OUTPUT_FEATURES=regions.gpkg'"

PROFILE="$(mktemp -d -t spex-qgis-profile.XXXXXX)"
trap 'rm -rf "$PROFILE"' EXIT
mkdir -p "$PROFILE/plugins"
ln -s "$ROOT" "$PROFILE/plugins/spex"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export QGIS_CUSTOM_CONFIG_PATH="$PROFILE/config"
export QGIS_PLUGINPATH="$PROFILE/plugins"
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$PROFILE/runtime}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

"$QGIS_PROCESS" plugins enable spex >"$PROFILE/enable.log" 2>&1 || {
    cat "$PROFILE/enable.log" >&2
    die "QGIS could not enable the plugin 'spex'"
}
argv=()
for p in "${params[@]}"; do
    case "$p" in
        ALGORITHM=*) ALGORITHM="${p#ALGORITHM=}" ;;
        --*) argv+=("$p") ;;
        *=*) argv+=("$p") ;;
        *) die "parameter '$p' is not KEY=VALUE" ;;
    esac
done
json=()
[[ "${JSON:-0}" == 1 ]] && json=(--json)
exec "$QGIS_PROCESS" "${json[@]}" run "${ALGORITHM:-spex:extract_land_cover}" -- "${argv[@]}"
