#!/usr/bin/env bash
# `dcp report` in a real browser: maps a tiny network layer by layer and as one network (with
# per-layer and per-network GA baselines), builds the report and opens it in headless Chromium;
# every figure must load and the screenshot must not be blank.
# Usage: tests/report_renders.sh path/to/dcp  (run from the repo root)
set -euo pipefail
dcp="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
eyeriss=arch/presets/eyeriss.yaml

fail() { echo "FAIL: $1" >&2; exit 1; }

"$dcp" sweep --arch "$eyeriss" --layers tests/data/sweep_layers.yaml --random-layers 6 --samples 300 --quiet \
  --out "$work/traces.sqlite" >/dev/null
"$dcp" train --traces "$work/traces.sqlite" --out "$work/predictor.pt" --epochs 10 --hidden 64 64 \
  --quiet >/dev/null
"$dcp" map --arch "$eyeriss" --network tests/data/tiny_net.yaml --predictor "$work/predictor.pt" \
  --steps 20 --per-network --quiet --out "$work/mapped" >/dev/null 2>&1
"$dcp" search --method ga --budget 40 --arch "$eyeriss" --network tests/data/tiny_net.yaml --quiet \
  --out "$work/mapped/ga" >/dev/null
"$dcp" search --per-network --method ga --budget 20 --arch "$eyeriss" --network tests/data/tiny_net.yaml \
  --quiet --out "$work/mapped/ga" >/dev/null
"$dcp" report "$work/mapped" --out "$work/report" >/dev/null

# The page's own script writes "<loaded> of <all>" into body[data-images-loaded] on load; the
# virtual time budget lets Chromium finish loading before it dumps the DOM or takes the shot.
page="file://$work/report/index.html"
browser=(timeout 120 chromium --headless --disable-gpu --no-sandbox --user-data-dir="$work/profile"
  --virtual-time-budget=10000)
"${browser[@]}" --dump-dom "$page" >"$work/dom.html" 2>/dev/null
images=$(grep -o '<img ' "$work/report/index.html" | wc -l)
[[ $images -gt 0 ]] || fail "index.html has no figures"
grep -q 'src="per_network.png"' "$work/report/index.html" || fail "no per-network figure"
if ! grep -q "data-images-loaded=\"$images of $images\"" "$work/dom.html"; then
  fail "not every figure loaded: $(grep -o 'data-images-loaded="[^"]*"' "$work/dom.html" ||
    echo 'the page script did not run')"
fi

"${browser[@]}" --window-size=1200,3000 --screenshot="$work/page.png" "$page" >/dev/null 2>&1
[[ -s "$work/page.png" ]] || fail "no screenshot"
# A page that failed to paint is one flat colour.
/usr/bin/python3 -c "
import sys
from PIL import Image
low, high = Image.open(sys.argv[1]).convert('L').getextrema()
assert low < high, 'blank screenshot'" "$work/page.png" || fail "blank screenshot"
echo "report renders: $images of $images figures loaded, screenshot not blank"
