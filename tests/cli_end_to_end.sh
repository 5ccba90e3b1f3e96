#!/usr/bin/env bash
# End-to-end tests of the `dcp` command on small inputs: the documented uses work, and every bad
# input gives exactly one line on stderr naming the file, the field and the allowed range, with a
# non-zero exit. Usage: tests/cli_end_to_end.sh path/to/dcp  (run from the repo root)
set -uo pipefail
dcp="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $1" >&2; }

# expect_ok NAME COMMAND...: exit 0
expect_ok() {
  local name="$1"; shift
  if "$@" >"$work/out" 2>"$work/err"; then pass; else fail "$name: exit $? ($(cat "$work/err"))"; fi
}

# expect_error NAME PATTERN... -- COMMAND...: non-zero exit, one stderr line containing each pattern
expect_error() {
  local name="$1"; shift
  local patterns=()
  while [[ "$1" != "--" ]]; do patterns+=("$1"); shift; done
  shift
  "$@" >"$work/out" 2>"$work/err"
  local status=$?
  local lines
  lines=$(wc -l <"$work/err")
  if [[ $status -eq 0 ]]; then fail "$name: exit 0"; return; fi
  if [[ $lines -ne 1 ]]; then fail "$name: $lines stderr lines: $(cat "$work/err")"; return; fi
  for pattern in "${patterns[@]}"; do
    if ! grep -qF -- "$pattern" "$work/err"; then
      fail "$name: '$pattern' not in: $(cat "$work/err")"; return
    fi
  done
  pass
}

eyeriss=arch/presets/eyeriss.yaml
layer=workloads/models/resnet50.yaml:conv2_1a

# --- the documented uses -------------------------------------------------------------------
expect_ok "network table" "$dcp" simulate --arch "$eyeriss" --network workloads/models/mobilenet_v2.yaml --dataflow eyeriss-rs --quiet
grep -q "^total" "$work/out" || fail "network table has no total row"
expect_ok "compare fixed" "$dcp" simulate --arch "$eyeriss" --network workloads/models/resnet50.yaml --compare-fixed --quiet
grep -q "Network totals" "$work/out" || fail "comparison has no totals"

"$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --export-maestro "$work/df.m" --json >"$work/one.json" || fail "json run"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs']['nvdla'][0]['result']; assert r['cycles']>0 and r['energy_pj']>0" "$work/one.json" && pass || fail "json result"
grep -q "SpatialMap" "$work/df.m" && pass || fail "maestro export"

cat >"$work/small.yaml" <<'YAML'
name: small
layers:
  - {name: conv, type: conv, in_channels: 4, out_channels: 8, in_h: 10, in_w: 10, kernel: 3, stride: 2, pad: 1}
  - {name: dw, type: dwconv, channels: 6, in_h: 9, in_w: 9, kernel: 3, stride: 1, pad: 1}
  - {name: fc, type: gemm, rows: 5, in_features: 12, out_features: 7}
YAML
for name in conv dw fc; do
  for dataflow in nvdla eyeriss-rs shidiannao tpu-ws; do
    expect_ok "functional $name $dataflow" "$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:$name" --dataflow "$dataflow" --functional
    grep -q PASS "$work/out" || fail "functional $name $dataflow: $(cat "$work/out")"
  done
done

expect_ok "timeline" "$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow nvdla --timeline "$work/t.json"
python3 -c "import json,sys; t=json.load(open(sys.argv[1])); assert any(e['ph']=='X' for e in t['traceEvents'])" "$work/t.json" && pass || fail "timeline json"

# A written dataflow file simulates to the same numbers as the fixed dataflow it came from.
"$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow shidiannao --json --write-dataflow "$work/df.yaml" >"$work/a.json" || fail "write dataflow"
"$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow "$work/df.yaml" --json >"$work/b.json" || fail "read dataflow"
python3 -c "
import json,sys
a=list(json.load(open(sys.argv[1]))['runs'].values())[0][0]['result']
b=list(json.load(open(sys.argv[2]))['runs'].values())[0][0]['result']
assert a==b" "$work/a.json" "$work/b.json" && pass || fail "dataflow file round trip"

# --- bad inputs ----------------------------------------------------------------------------
printf 'name: x\narray: {rows: 2, cols: [\n' >"$work/malformed.yaml"
expect_error "malformed arch YAML" "malformed.yaml" "line" -- "$dcp" simulate --arch "$work/malformed.yaml" --layer "$layer"
sed '/l2_bytes/d' "$eyeriss" >"$work/missing.yaml"
expect_error "missing arch field" "missing.yaml" "l2_bytes" -- "$dcp" simulate --arch "$work/missing.yaml" --layer "$layer"
sed 's/l0_bytes: [0-9]*/l0_bytes: -4/' "$eyeriss" >"$work/negative.yaml"
expect_error "negative arch field" "negative.yaml" "l0_bytes" "allowed" -- "$dcp" simulate --arch "$work/negative.yaml" --layer "$layer"

cat >"$work/empty.yaml" <<'YAML'
name: empty
layers:
  - {name: tiny, type: conv, in_channels: 3, out_channels: 8, in_h: 2, in_w: 2, kernel: 5, stride: 1, pad: 0}
YAML
expect_error "empty output layer" "empty.yaml" "layers[0]" -- "$dcp" simulate --arch "$eyeriss" --network "$work/empty.yaml"
expect_error "unknown layer" "resnet50.yaml" "nosuch" -- "$dcp" simulate --arch "$eyeriss" --layer workloads/models/resnet50.yaml:nosuch
expect_error "unknown fixed dataflow" "--dataflow" "nvdla" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow weight-magic

"$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow nvdla --write-dataflow "$work/good.yaml" --quiet >/dev/null
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
text = open(f"{work}/good.yaml").read()
levels = text.split("- level:")
# L1 tile bigger than the L2 tile: tiles do not nest.
l1 = re.sub(r"K: \d+", "K: 8", levels[2], count=1)
l2 = re.sub(r"K: \d+", "K: 2", levels[1], count=1)
open(f"{work}/nest.yaml", "w").write("- level:".join([levels[0], l2, l1, levels[3]]))
PY
expect_error "tiles do not nest" "nest.yaml" "levels[" "tile.K" -- "$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow "$work/nest.yaml"
# conv2_1a is a 1x1 conv, K = C = 64 on 56x56. write_dataflow NAME L2_TILE L2_FANOUT L1_TILE L1_FANOUT L0_TILE
write_dataflow() {
  cat >"$work/$1" <<YAML
name: $1
levels:
  - {level: L2, spatial: {dim: K, fanout: $3}, order: [K, C, Y, X, R, S], tile: $2}
  - {level: L1, spatial: {dim: C, fanout: $5}, order: [K, C, Y, X, R, S], tile: $4}
  - {level: L0, spatial: {dim: K, fanout: 1}, order: [K, C, Y, X, R, S], tile: $6}
YAML
}
write_dataflow pes.yaml "{K: 64, C: 8, Y: 2, X: 2, R: 1, S: 1}" 64 "{K: 1, C: 8, Y: 2, X: 2, R: 1, S: 1}" 8 "{K: 1, C: 1, Y: 1, X: 1, R: 1, S: 1}"
expect_error "too many PEs" "pes.yaml" "512" "168" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/pes.yaml"
write_dataflow overflow.yaml "{K: 4, C: 8, Y: 2, X: 5, R: 1, S: 1}" 1 "{K: 4, C: 8, Y: 2, X: 5, R: 1, S: 1}" 1 "{K: 4, C: 8, Y: 2, X: 5, R: 1, S: 1}"
expect_error "buffer overflow" "overflow.yaml" "L0 footprint" "512 B" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/overflow.yaml"
sed "0,/dim: [KCYXRS]/s//dim: Q/" "$work/good.yaml" >"$work/baddim.yaml"
expect_error "unknown dim in dataflow" "baddim.yaml" "spatial.dim" -- "$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow "$work/baddim.yaml"
expect_error "functional on a network" "--layer" -- "$dcp" simulate --arch "$eyeriss" --network "$work/small.yaml" --functional

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
