#!/usr/bin/env bash
# `make demo`: extract water bodies and vegetation from the real Sentinel-2 sample and show the
# explanation. Run `make setup` first (make demo does it for you).
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
