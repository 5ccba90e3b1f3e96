#!/usr/bin/env bash
# `dcp map --per-network` end to end with the shipped predictor on three small layers, with few
# starts, steps and rounds: the table has the four rows, every layer's written per-network
# dataflow re-simulates to the numbers the one-shape row sums, those dataflows are one chip (the
# same loop orders inside the chip), the one shape scores no worse than the best single fixed
# dataflow, and the same seed gives the same shape.
# Usage: tests/map_per_network.sh path/to/dcp  (run from the repo root)
source "$(dirname "$0")/map_small.sh"
map=("${small_map[@]}" --per-network)
"${map[@]}" --json --out "$work/a" >"$work/a.json" 2>/dev/null || fail "dcp map --per-network --json"
"${map[@]}" --out "$work/b" >"$work/table.txt" 2>/dev/null || fail "dcp map --per-network"
for row in "dcp, one shape" "fixed, one dataflow" "dcp, per layer" "fixed, best per layer"; do
  grep -q "^$row" "$work/table.txt" || fail "no '$row' row: $(cat "$work/table.txt")"
done
shape() {
  python3 -c "
import json, sys
report = json.load(open(sys.argv[1]))['per_network']
report.pop('wall_seconds')
print(json.dumps(report, sort_keys=True))" "$1"
}
cmp -s <(shape "$work/a/map.json") <(shape "$work/b/map.json") || fail "the same seed gave another shape"

# Each layer's per-network dataflow simulated again: "<layer> cycles pJ".
for file in "$work"/a/per_network/*.yaml; do
  layer="$(basename "$file" .yaml)"
  "$dcp" simulate --arch "$eyeriss" --layer "$network:$layer" --dataflow "$file" --json |
    python3 -c "
import json, sys
result = list(json.load(sys.stdin)['runs'].values())[0][0]['result']
print(sys.argv[1], result['cycles'], result['energy_pj'])" "$layer"
done >"$work/resimulated.txt"

python3 - "$work/a.json" "$work/resimulated.txt" "$work/a/per_network" <<'PY' || fail "per-network report"
import json, sys

report = json.load(open(sys.argv[1]))
per_network = report["per_network"]
methods = {method["method"].split(" (")[0]: method for method in per_network["methods"]}
one_shape, fixed = methods["dcp, one shape"], methods["fixed, one dataflow"]
assert one_shape["score"] <= fixed["score"], (one_shape, fixed)
assert methods["dcp, one shape"]["simulator_calls"] == 6 * 3, one_shape
assert len(per_network["verified"]) == 6, per_network["verified"]
# The one shape is no worse than any verified shape or the best fixed dataflow (assembly may
# beat them all).
assert one_shape["score"] <= min([run["score"] for run in per_network["verified"]] + [fixed["score"]])

counts = {layer["layer"]: layer["count"] for layer in report["layers"]}
cycles = energy = 0
for line in open(sys.argv[2]):
    layer, layer_cycles, layer_energy = line.split()
    cycles += counts[layer] * float(layer_cycles)
    energy += counts[layer] * float(layer_energy)
assert len(counts) == 3
assert abs(cycles - one_shape["cycles"]) <= 1e-9 * cycles, (cycles, one_shape)
assert abs(energy - one_shape["energy_pj"]) <= 1e-6 * energy, (energy, one_shape)

# One chip: unless a fixed dataflow won, every layer keeps the orders inside the chip (L1, PEs).
if not per_network["best_is_fixed"]:
    import glob, re
    inner = {tuple(re.findall(r"order: \[([^]]*)\]", open(path).read())[1:])
             for path in glob.glob(sys.argv[3] + "/*.yaml")}
    assert len(inner) == 1, inner
PY
echo "map --per-network: the shape re-simulates to its rows and repeats with its seed"
