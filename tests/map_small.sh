# Sourced by the `dcp map` end-to-end scripts: a scratch folder, the eyeriss preset, three small
# layers, and `small_map`, the shipped predictor's `dcp map` on them with few starts, steps and
# rounds (the script adds its mode and output flags).
set -euo pipefail
dcp="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
eyeriss=arch/presets/eyeriss.yaml
network=tests/data/sweep_layers.yaml
small_map=("$dcp" map --arch "$eyeriss" --network "$network" --predictor mapper/predictors/eyeriss.pt
  --starts 4 --steps 10 --rounds 2 --top-k 6 --neighbours 50 --fine-tune-steps 5 --seed 3 --quiet)

fail() { echo "FAIL: $1" >&2; exit 1; }
