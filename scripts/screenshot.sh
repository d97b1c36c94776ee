#!/usr/bin/env bash
# `make screenshot SHOT=path.png`: the real QGIS desktop under Xvfb, with a fresh profile and the
# plugin enabled, loads the Sentinel-2 sample, types an instruction into the SPEX dock, presses
# Run, waits for the task and saves a PNG of the main window (scripts/screenshot.py does the
# clicking from inside QGIS).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SHOT="$(realpath -m "${1:-docs/screenshot.png}")"
SCENE="$ROOT/.cache/data/s2l1c_T33UUU_20170216.tif"
die() { printf 'screenshot: %s\n' "$*" >&2; exit 2; }

[[ -f "$SCENE" ]] || die "$SCENE not found; run 'make data'"
[[ -x .venv/bin/python ]] || die ".venv not found; run 'make setup'"
command -v xvfb-run >/dev/null || die "xvfb-run not found; install xvfb and xauth ('make setup')"
QGIS_BIN="$(command -v qgis.bin || command -v qgis || true)"
[[ -n "$QGIS_BIN" ]] || die "qgis not found; run 'make setup'"

WORK="$(mktemp -d -t spex-shot.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/plugins" "$WORK/profiles/profiles/default/QGIS" "$WORK/runtime"
chmod 700 "$WORK/runtime"
ln -s "$ROOT" "$WORK/plugins/spex"
cat >"$WORK/profiles/profiles/default/QGIS/QGIS3.ini" <<INI
[PythonPlugins]
spex=true

[qgis]
checkVersion=false
showTips322=false
showTips=false
allowVersionCheck=false

[core]
NewsFeed\httpsfeedqgisorg\disabled=true
INI

SITE="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export QGIS_PLUGINPATH="$WORK/plugins"
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
export XDG_RUNTIME_DIR="$WORK/runtime"
export SPEX_SHOT="$SHOT" SPEX_SCENE="$SCENE" SPEX_SHOT_STATUS="$WORK/status"
export SPEX_SHOT_OUT="$WORK/runs"
unset QT_QPA_PLATFORM  # the desktop needs the (virtual) X screen

echo "screenshot: starting QGIS under Xvfb (fresh profile in $WORK)"
set +e
timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$QGIS_BIN" --profiles-path "$WORK/profiles" --nologo --noversioncheck \
    --code "$ROOT/scripts/screenshot.py" >"$WORK/qgis.log" 2>&1
code=$?
set -e
if [[ ! -f "$WORK/status" ]] || [[ "$(head -n 1 "$WORK/status")" != ok* ]]; then
    tail -n 30 "$WORK/qgis.log" >&2
    [[ -f "$WORK/status" ]] && cat "$WORK/status" >&2
    die "QGIS did not produce the screenshot (exit $code)"
fi
cat "$WORK/status"
echo "screenshot: saved $SHOT ($(du -k "$SHOT" | cut -f1) KiB)"
