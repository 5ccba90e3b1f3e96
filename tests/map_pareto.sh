#!/usr/bin/env bash
# `dcp map --pareto` end to end with the shipped predictor on three small layers, with few
# starts, steps and rounds: the fronts are non-dominated, every layer point re-simulates from its
# written dataflow to exactly its numbers, every network point is its layers' points summed, the
# same seed gives the same fronts, and `dcp report` draws them.
# Usage: tests/map_pareto.sh path/to/dcp  (run from the repo root)
source "$(dirname "$0")/map_small.sh"
map=("${small_map[@]}" --pareto --pareto-points 3)
"${map[@]}" --json --out "$work/a" >"$work/a.json" 2>/dev/null || fail "dcp map --pareto --json"
"${map[@]}" --out "$work/b" >"$work/table.txt" 2>/dev/null || fail "dcp map --pareto"
grep -q "^network" "$work/table.txt" || fail "the table has no network rows: $(cat "$work/table.txt")"
fronts() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['pareto'])" "$1"; }
cmp -s <(fronts "$work/a/map.json") <(fronts "$work/b/map.json") || fail "the same seed gave other fronts"

# Each layer point's dataflow, as written under pareto/, simulated again: "<layer> <index> cycles pJ".
python3 -c "
import json, sys
for layer in json.load(open(sys.argv[1]))['pareto']['layers']:
    for index, _ in enumerate(layer['points']):
        print(layer['layer'], index)" "$work/a.json" |
while read -r layer index; do
  "$dcp" simulate --arch "$eyeriss" --layer "$network:$layer" \
    --dataflow "$work/a/pareto/$layer.$index.yaml" --json |
    python3 -c "
import json, sys
result = list(json.load(sys.stdin)['runs'].values())[0][0]['result']
print(sys.argv[1], sys.argv[2], result['cycles'], result['energy_pj'])" "$layer" "$index"
done >"$work/resimulated.txt"

python3 - "$work/a.json" "$work/resimulated.txt" <<'PY' || fail "fronts"
import json, sys

report = json.load(open(sys.argv[1]))
pareto = report["pareto"]
assert pareto["latency_weights"] == [0, 0.5, 1], pareto["latency_weights"]


def non_dominated(points, what):
    costs = [(point["cycles"], point["energy_pj"]) for point in points]
    assert costs == sorted(costs), f"{what}: not by cycles"
    for a in costs:
        for b in costs:
            assert not (b[0] <= a[0] and b[1] <= a[1] and b != a), f"{what}: {b} dominates {a}"


points_of = {}
for layer in pareto["layers"]:
    non_dominated(layer["points"], layer["layer"])
    points_of[layer["layer"]] = layer["points"]
    assert layer["distinct_simulated"] >= len(layer["points"]) >= 1, layer
resimulated = 0
for line in open(sys.argv[2]):
    name, index, cycles, energy_pj = line.split()
    point = points_of[name][int(index)]
    assert point["cycles"] == int(cycles) and point["energy_pj"] == float(energy_pj), (line, point)
    resimulated += 1
assert resimulated == sum(len(points) for points in points_of.values()), resimulated

non_dominated(pareto["network"], "network")
counts = [row["count"] for row in report["layers"]]
names = [row["layer"] for row in pareto["layers"]]
for point in pareto["network"]:
    chosen = [points_of[name][index] for name, index in zip(names, point["layer_points"])]
    cycles = sum(count * layer["cycles"] for count, layer in zip(counts, chosen))
    energy_pj = sum(count * layer["energy_pj"] for count, layer in zip(counts, chosen))
    assert point["cycles"] == cycles and abs(point["energy_pj"] / energy_pj - 1) < 1e-12, point
print(f"{resimulated} layer points re-simulate exactly; {len(pareto['network'])} network points")
PY

"$dcp" report "$work/a" --out "$work/report" >/dev/null || fail "dcp report"
for figure in pareto_network.png pareto_layers.png; do
  [[ -s "$work/report/$figure" ]] || fail "no $figure"
  grep -qF "src=\"$figure\"" "$work/report/index.html" || fail "index.html misses $figure"
done
echo "map --pareto: fronts non-dominated, re-simulated, summed, deterministic and drawn"
