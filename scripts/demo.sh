#!/usr/bin/env bash
# `make demo`: extract water bodies and vegetation from the real Sentinel-2 sample and show the
# explanation, twice: with the `spex` command, then through real QGIS headless (`qgis_process run
# spex:extract_land_cover`, the path of `make qgis-run`). Run `make setup` first (make demo does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCENE=.cache/data/s2l1c_T33UUU_20170216.tif
PROMPT="extract the water bodies and vegetation larger than 1 ha"
OUT="demo-output/$(date +%Y%m%d-%H%M%S)"

[[ -x .venv/bin/spex ]] || { echo "demo: .venv/bin/spex not found; run 'make setup'" >&2; exit 1; }
[[ -f "$SCENE" ]] || { echo "demo: $SCENE not found; run 'make data'" >&2; exit 1; }

echo "demo: spex extract $SCENE --prompt \"$PROMPT\" --out $OUT"
start=$SECONDS
.venv/bin/spex extract "$SCENE" --prompt "$PROMPT" --out "$OUT"
echo
echo "demo: finished in $((SECONDS - start)) s; outputs in $OUT/:"
ls -l "$OUT"
if [[ -f "$OUT/explanation.md" ]]; then
    echo
    echo "demo: first lines of $OUT/explanation.md:"
    echo "----------------------------------------------------------------------"
    head -n 25 "$OUT/explanation.md"
    echo "----------------------------------------------------------------------"
else
    echo "demo: $OUT/explanation.md was not written" >&2
    exit 1
fi

QGIS_OUT="$OUT-qgis"
echo
echo "demo: the same job in real QGIS, headless: qgis_process run spex:extract_land_cover"
start=$SECONDS
mkdir -p "$QGIS_OUT"
JSON=1 bash scripts/qgis_run.sh "INPUT=$SCENE" "PROMPT=$PROMPT" \
    "OUTPUT_MASK=$QGIS_OUT/mask.tif" "OUTPUT_FEATURES=$QGIS_OUT/features.gpkg" \
    >"$QGIS_OUT/qgis_process.json" 2>"$QGIS_OUT/qgis_process.log" || {
    tail -n 20 "$QGIS_OUT/qgis_process.log" >&2
    echo "demo: the qgis_process run failed (log: $QGIS_OUT/qgis_process.log)" >&2
    exit 1
}
echo "demo: qgis_process finished in $((SECONDS - start)) s; outputs in $QGIS_OUT/"
.venv/bin/python - "$QGIS_OUT/qgis_process.json" <<'PY'
import json
import sys

text = open(sys.argv[1], encoding="utf-8").read()
results = json.loads(text[text.index("{"):])["results"]
explanation = results["EXPLANATION"]
summary = explanation.split("## Summary", 1)[1].split("\n## ", 1)[0].strip()
print("demo: summary from the algorithm's EXPLANATION output:")
print(summary)
print(f"demo: ran {results['DEVICE']}; manifest {results['MANIFEST']}")
PY
