#!/usr/bin/env bash
# End-to-end tests of the `dcp` command on small inputs: the documented uses work, and every bad
# input gives exactly one line on stderr naming the file, the field and the allowed range, with a
# non-zero exit. Usage: tests/cli_end_to_end.sh path/to/dcp  (run from the repo root)
set -uo pipefail
dcp="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/stderr_lines.sh"
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
  stderr_lines "$work/err" >"$work/err.own"
  mv "$work/err.own" "$work/err"
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
# Simulating opens none of the libraries only some commands need (start-up time).
LD_DEBUG=files "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --quiet \
  2>"$work/ld" >/dev/null
on_demand="file=lib(torch|dcp_learned|mpi|dcp_mpi|onnx|dcp_onnx|protobuf)[^ ]*"
if grep -qE "$on_demand" "$work/ld"; then
  fail "simulate loaded: $(grep -oE "$on_demand" "$work/ld" | sort -u | tr '\n' ' ')"
else pass; fi

cat >"$work/small.yaml" <<'YAML'
name: small
layers:
  - {name: conv, type: conv, in_channels: 4, out_channels: 8, in_h: 10, in_w: 10, kernel: 3, stride: 2, pad: 1}
  - {name: dw, type: dwconv, channels: 6, in_h: 9, in_w: 9, kernel: 3, stride: 1, pad: 1}
  - {name: fc, type: gemm, rows: 5, in_features: 12, out_features: 7}
YAML
for name in conv dw fc; do
  for dataflow in nvdla eyeriss-rs shidiannao tpu-ws tpu-os; do
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

# --- import and export (ONNX, Timeloop, MAESTRO) ------------------------------------------
expect_ok "import onnx" "$dcp" import tests/data/tiny_net.onnx --out "$work/tiny.yaml"
grep -q "293024 MACs" "$work/out" || fail "import onnx summary: $(cat "$work/out")"
grep -q "stated_macs: 293024" "$work/tiny.yaml" && pass || fail "imported model total"
expect_ok "simulate imported" "$dcp" simulate --arch "$eyeriss" --network "$work/tiny.yaml" --dataflow nvdla --quiet
expect_ok "export timeloop" "$dcp" export --dataflow "$work/df.yaml" --layer "$work/small.yaml:conv" --format timeloop --out "$work/df_timeloop.yaml"
grep -q "target: GlobalBuffer" "$work/df_timeloop.yaml" && pass || fail "timeloop mapping targets"
expect_ok "export maestro" "$dcp" export --dataflow "$work/df_timeloop.yaml" --layer "$work/small.yaml:conv" --format maestro --out "$work/df_back.m"
expect_ok "re-import maestro" "$dcp" export --dataflow "$work/df_back.m" --format yaml --out "$work/df_back.yaml"
cmp -s "$work/df.yaml" "$work/df_back.yaml" && pass || fail "dataflow changed through timeloop and maestro"
cat >"$work/problem.yaml" <<'YAML'
problem:
  shape: {name: CNN-Layer, dimensions: [C, M, R, S, N, P, Q]}
  instance: {C: 64, M: 128, R: 3, S: 3, N: 1, P: 28, Q: 28, Wstride: 2, Hstride: 2}
YAML
expect_ok "import timeloop problem" "$dcp" import-timeloop "$work/problem.yaml" --out "$work/problem_layer.yaml"
expect_ok "simulate timeloop problem" "$dcp" simulate --arch "$eyeriss" --layer "$work/problem_layer.yaml:problem" --dataflow eyeriss-rs --quiet
# Every command takes a dataflow in any format it writes: a Timeloop mapping or MAESTRO file simulates
# to the same numbers as the fixed dataflow exported, on a batch of 2 with several dims unrolled.
big=(--arch "$eyeriss" --layer workloads/models/alexnet.yaml:conv3 --batch 2 --json --quiet)
"$dcp" simulate "${big[@]}" --dataflow eyeriss-rs >"$work/fixed.json" || fail "simulate eyeriss-rs batch 2"
expect_ok "export eyeriss-rs as timeloop" "$dcp" export --dataflow eyeriss-rs --layer workloads/models/alexnet.yaml:conv3 --arch "$eyeriss" --batch 2 --format timeloop --out "$work/rs_timeloop.yaml"
expect_ok "export eyeriss-rs as maestro" "$dcp" export --dataflow eyeriss-rs --layer workloads/models/alexnet.yaml:conv3 --arch "$eyeriss" --batch 2 --format maestro --out "$work/rs.m"
for file in rs_timeloop.yaml rs.m; do
  "$dcp" simulate "${big[@]}" --dataflow "$work/$file" >"$work/other.json" || fail "simulate $file"
  python3 -c "
import json,sys
a=list(json.load(open(sys.argv[1]))['runs'].values())[0][0]['result']
b=list(json.load(open(sys.argv[2]))['runs'].values())[0][0]['result']
assert a==b" "$work/fixed.json" "$work/other.json" && pass || fail "$file simulates differently from eyeriss-rs"
done
# A dataflow file over a network is a template fitted to every layer.
expect_ok "template over a network" "$dcp" simulate --arch "$eyeriss" --network workloads/models/alexnet.yaml --dataflow "$work/rs_timeloop.yaml" --quiet
grep -q "^total" "$work/out" && pass || fail "template table: $(cat "$work/out")"

# --- bad inputs ----------------------------------------------------------------------------
expect_ok "version" "$dcp" --version
grep -qE "^dcp [0-9.]+ \(commit [^)]+\); SystemC [0-9.]+, libtorch ([0-9.]+|none \(built without predictor support\)), SQLite [0-9.]+, yaml-cpp [0-9.]+$" "$work/out" && pass || fail "version line: $(cat "$work/out")"
expect_error "misspelt command" "unknown command 'simulat'" "did you mean 'simulate'" -- "$dcp" simulat --arch "$eyeriss"
expect_error "misspelt option" "unknown option '--layr'" "did you mean '--layer'" -- "$dcp" simulate --arch "$eyeriss" --layr x
expect_error "CLI11 conversion error" "dcp train" "--epochs" -- "$dcp" train --epochs abc --traces a --out b
printf 'name: x\narray: {rows: 2, cols: [\n' >"$work/malformed.yaml"
expect_error "malformed arch YAML" "malformed.yaml" "line" -- "$dcp" simulate --arch "$work/malformed.yaml" --layer "$layer"
sed '/l2_bytes/d' "$eyeriss" >"$work/missing.yaml"
expect_error "missing arch field" "missing.yaml" "l2_bytes" -- "$dcp" simulate --arch "$work/missing.yaml" --layer "$layer"
sed 's/l1_bytes: [0-9]*/l1_bytes: -4/' "$eyeriss" >"$work/negative.yaml"
expect_error "negative arch field" "negative.yaml" "l1_bytes" "allowed" -- "$dcp" simulate --arch "$work/negative.yaml" --layer "$layer"

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
l1 = re.sub(r"tile: \{K: \d+", "tile: {K: 8", levels[2], count=1)
l2 = re.sub(r"tile: \{K: \d+", "tile: {K: 2", levels[1], count=1)
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
expect_error "buffer overflow" "overflow.yaml" "L0 input footprint" "24 B scratchpad" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/overflow.yaml"
sed "0,/dim: [KCYXRS]/s//dim: Q/" "$work/pes.yaml" >"$work/baddim.yaml"
expect_error "unknown dim in a one-dim spatial map" "baddim.yaml" "spatial.dim" "allowed: K, C, Y, X, R, S, N" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/baddim.yaml"
sed "0,/spatial: {dim: K, fanout: 64}/s//spatial: {rows: {K: 8, Q: 8}}/" "$work/pes.yaml" >"$work/baddim2.yaml"
expect_error "unknown dim in a spatial map" "baddim2.yaml" "spatial.rows.Q" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/baddim2.yaml"
sed "0,/spatial: {dim: K, fanout: 64}/s//spatial: {rows: {K: 16}}/" "$work/pes.yaml" >"$work/badaxis.yaml"
expect_error "a dim bound to an axis it does not fit" "badaxis.yaml" "spatial.rows" "12" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/badaxis.yaml"
sed "0,/spatial: {dim: K, fanout: 64}/s//spatial: {K: 0}/" "$work/pes.yaml" >"$work/zerofan.yaml"
expect_error "zero fan-out" "zerofan.yaml" "levels[0].spatial.K" ">= 1" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --dataflow "$work/zerofan.yaml"
expect_error "batch of 0" "--batch" "1..65536" -- "$dcp" simulate --arch "$eyeriss" --layer "$layer" --batch 0
expect_error "functional on a network" "--layer" -- "$dcp" simulate --arch "$eyeriss" --network "$work/small.yaml" --functional
head -c 2000 tests/data/tiny_net.onnx >"$work/truncated.onnx"
expect_error "truncated onnx" "truncated.onnx" "not an ONNX model" -- "$dcp" import "$work/truncated.onnx" --out "$work/never.yaml"
expect_error "yaml as onnx" "resnet50.yaml" "not an ONNX model" -- "$dcp" import workloads/models/resnet50.yaml
sed 's/Hstride: 2/Hstride: 1/' "$work/problem.yaml" >"$work/strides.yaml"
expect_error "timeloop strides differ" "strides.yaml" "problem.instance.Hstride" "allowed" -- "$dcp" import-timeloop "$work/strides.yaml"
expect_error "export without layer" "--layer" "maestro" -- "$dcp" export --dataflow "$work/df.yaml" --format maestro

# --- sweep ---------------------------------------------------------------------------------
sweep_small=(sweep --arch "$eyeriss" --layers tests/data/sweep_layers.yaml --samples 60 --jobs 2 --quiet)
expect_ok "sweep" "$dcp" "${sweep_small[@]}" --out "$work/sweep.sqlite"
grep -q "60 rows written" "$work/out" || fail "sweep summary: $(cat "$work/out")"
expect_ok "sweep rerun" "$dcp" "${sweep_small[@]}" --out "$work/sweep.sqlite"
grep -q "0 rows written, 60 already present" "$work/out" || fail "sweep rerun summary: $(cat "$work/out")"

# count_rows STORE: rows in its samples table (0 before the first commit)
count_rows() {
  python3 -c "
import sqlite3, sys
try: print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM samples').fetchone()[0])
except sqlite3.Error: print(0)" "$1"
}
# same_store A B: every row of every table is identical
same_store() {
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
a, b = (sqlite3.connect(path) for path in sys.argv[1:3])
for table in ("meta", "archs", "layers", "samples"):
    query = f"SELECT * FROM {table} ORDER BY 1"
    assert a.execute(query).fetchall() == b.execute(query).fetchall(), table
PY
}

for k in 1 2 3; do
  "$dcp" "${sweep_small[@]}" --shard "$k/3" --out "$work/shard$k.sqlite" >/dev/null || fail "shard $k/3"
done
expect_ok "merge shards" "$dcp" sweep --merge "$work"/shard{1,2,3}.sqlite --out "$work/merged.sqlite"
same_store "$work/sweep.sqlite" "$work/merged.sqlite" && pass || fail "merged shards differ from the single sweep"

# The same sweep across the ranks of an MPI job, merged by rank 0. OpenMPI refuses root unless
# told otherwise; CI runs as root.
# OpenMPI's components leak at exit, unloaded before LeakSanitizer could name them: leak checks
# are off for the MPI runs (ASAN_OPTIONS is ignored outside the sanitizer build).
mpi_run=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0
         timeout 300 mpirun --oversubscribe -n 2)
expect_ok "mpi sweep" "${mpi_run[@]}" "$dcp" "${sweep_small[@]}" --mpi --out "$work/mpi.sqlite"
same_store "$work/sweep.sqlite" "$work/mpi.sqlite" && pass || fail "the MPI sweep differs from the single sweep"
[[ -f "$work/mpi.sqlite.shard-1-of-2" && -f "$work/mpi.sqlite.shard-2-of-2" ]] && pass || fail "MPI shards missing"
expect_ok "mpi sweep rerun" "${mpi_run[@]}" "$dcp" "${sweep_small[@]}" --mpi --out "$work/mpi.sqlite"
grep -q "0 rows added" "$work/out" && pass || fail "MPI rerun added rows: $(cat "$work/out")"
"${mpi_run[@]}" "$dcp" sweep --arch "$work/nosuch.yaml" --layers tests/data/sweep_layers.yaml --samples 10 --mpi --out "$work/mpi_bad.sqlite" >/dev/null 2>"$work/err"
status=$?
[[ $status -ne 0 && $status -ne 124 ]] && grep -q "nosuch.yaml" "$work/err" && pass || fail "MPI sweep with a bad arch: exit $status, $(cat "$work/err")"

# Many hardware configs from an arch space: the configs `dcp arch-space` writes are the ones swept.
expect_ok "arch-space" "$dcp" arch-space arch/spaces/edge-to-cloud.yaml --configs 3 --seed 5 --out "$work/archs"
[[ $(ls "$work"/archs/edge-to-cloud-*.yaml | wc -l) -eq 3 ]] && pass || fail "arch-space wrote $(ls "$work/archs")"
expect_ok "simulate a drawn config" "$dcp" simulate --arch "$work/archs/edge-to-cloud-2.yaml" --layer tests/data/sweep_layers.yaml:conv --dataflow nvdla --quiet
sweep_space=(sweep --arch-space arch/spaces/edge-to-cloud.yaml --configs 3 --seed 5 --layers tests/data/sweep_layers.yaml --samples 90 --jobs 2 --quiet)
expect_ok "sweep an arch space" "$dcp" "${sweep_space[@]}" --out "$work/space.sqlite"
python3 - "$work/space.sqlite" "$work/archs" <<'PY' && pass || fail "swept archs differ from arch-space's"
import os, sqlite3, sys
names = {row[0] for row in sqlite3.connect(sys.argv[1]).execute(
    "SELECT DISTINCT a.name FROM samples s JOIN archs a ON s.arch_id = a.arch_id")}
assert names == {f[:-5] for f in os.listdir(sys.argv[2])}, names
PY
expect_ok "arch-space sweep resumes" "$dcp" "${sweep_space[@]}" --out "$work/space.sqlite"
grep -q " 0 rows written, 90 already present" "$work/out" && pass || fail "arch-space sweep rerun: $(cat "$work/out")"
printf 'name: s\nbase: %s/arch/presets/edge.yaml\nparameters:\n  num_pes: {min: 48, max: 256}\n' "$PWD" >"$work/archs/bad_space.yaml"
expect_error "arch space with a bad range" "bad_space.yaml" "parameters.num_pes.min" "power of two" -- "$dcp" arch-space "$work/archs/bad_space.yaml"

# kill -9 after the first commit, rerun: exactly the rows of an uninterrupted run.
sweep_mobilenet=(sweep --arch "$eyeriss" --layers workloads/models/mobilenet_v2.yaml --samples 500 --jobs 2 --quiet)
"$dcp" "${sweep_mobilenet[@]}" --out "$work/whole.sqlite" >/dev/null || fail "uninterrupted sweep"
"$dcp" "${sweep_mobilenet[@]}" --out "$work/killed.sqlite" >/dev/null 2>&1 &
sweep_pid=$!
for _ in $(seq 100); do
  [[ $(count_rows "$work/killed.sqlite") -gt 0 ]] && break
  sleep 0.1
done
{ kill -9 "$sweep_pid"; wait "$sweep_pid"; } 2>/dev/null  # bash reports the kill otherwise
rows_before_resume=$(count_rows "$work/killed.sqlite")
[[ $rows_before_resume -lt 500 ]] || echo "note: the sweep finished before kill -9; resume not exercised" >&2
expect_ok "resume after kill -9" "$dcp" "${sweep_mobilenet[@]}" --out "$work/killed.sqlite"
grep -q "$rows_before_resume already present" "$work/out" || fail "resume summary: $(cat "$work/out")"
same_store "$work/whole.sqlite" "$work/killed.sqlite" && pass || fail "resumed sweep differs from the uninterrupted one"

# A worker killed mid-sweep: one error line, the committed rows stay. The sweep is long enough
# that the kill after its first commit always lands before the end.
"$dcp" sweep --arch "$eyeriss" --layers workloads/models/mobilenet_v2.yaml --samples 5000 --jobs 2 \
  --out "$work/worker.sqlite" >/dev/null 2>"$work/err" &
sweep_pid=$!
for _ in $(seq 100); do
  [[ $(count_rows "$work/worker.sqlite") -gt 0 ]] && break
  sleep 0.1
done
worker_pid=$(pgrep -P "$sweep_pid" | head -1)
[[ -n $worker_pid ]] && kill -9 "$worker_pid"
if wait "$sweep_pid"; then
  echo "note: the sweep finished before its worker was killed" >&2
elif [[ $(wc -l <"$work/err") -eq 1 ]] && grep -q "worker" "$work/err" && [[ $(count_rows "$work/worker.sqlite") -gt 0 ]]; then
  pass
else
  fail "killed worker: $(cat "$work/err")"
fi

for shard in 0/4 5/4 x; do
  expect_error "bad shard $shard" "--shard" "1 <= k <= n" -- "$dcp" "${sweep_small[@]}" --shard "$shard" --out "$work/bad.sqlite"
done
head -c 8192 /dev/urandom >"$work/random.sqlite"
expect_error "sweep into random bytes" "random.sqlite" "not an SQLite file" -- "$dcp" "${sweep_small[@]}" --out "$work/random.sqlite"
python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE songs (title TEXT)')" "$work/foreign.sqlite"
expect_error "sweep into foreign SQLite" "foreign.sqlite" "not a dcp trace store" -- "$dcp" "${sweep_small[@]}" --out "$work/foreign.sqlite"
expect_error "resume with another seed" "sweep.sqlite" "meta.sweep.seed" -- "$dcp" "${sweep_small[@]}" --seed 2 --out "$work/sweep.sqlite"
"$dcp" "${sweep_small[@]}" --seed 2 --out "$work/seed2.sqlite" >/dev/null || fail "sweep with seed 2"
expect_error "merge of two sweeps" "seed2.sqlite" "meta.sweep.seed" -- "$dcp" sweep --merge "$work/sweep.sqlite" "$work/seed2.sqlite" --out "$work/bad_merge.sqlite"
# --mix: only jump walks; every row is of that kind, and a bad mix is one line.
expect_ok "jump-only sweep" "$dcp" sweep --arch "$eyeriss" --layers tests/data/sweep_layers.yaml \
  --samples 40 --mix jump=1 --jobs 1 --quiet --out "$work/jump.sqlite"
kinds=$(python3 -c "import sqlite3, sys; print(sorted({r[0] for r in sqlite3.connect(sys.argv[1]).execute('SELECT sample_kind FROM samples')}))" "$work/jump.sqlite")
[[ "$kinds" == "['jump']" ]] && pass || fail "jump-only sweep holds kinds $kinds"
expect_error "unknown sample kind" "--mix" "walk=1" -- "$dcp" sweep --arch "$eyeriss" --layers tests/data/sweep_layers.yaml --samples 10 --mix walk=1 --out "$work/bad_mix.sqlite"
expect_error "sweep without --samples" "--samples" -- "$dcp" sweep --arch "$eyeriss" --layers tests/data/sweep_layers.yaml --out "$work/bad.sqlite"

# --- search baselines ------------------------------------------------------------------------
# The GA's pick, written with --out, simulates to the numbers the search reported.
expect_ok "ga search" "$dcp" search --method ga --budget 60 --arch "$eyeriss" --layer "$work/small.yaml:conv" --out "$work/searched" --json
python3 -c "
import json,sys
report=json.load(open(sys.argv[1]))['layers'][0]
run=json.load(open(sys.argv[2]))['runs']
result=list(run.values())[0][0]['result']
assert report['simulator_calls']<=60 and report['result']==result, (report['result'], result)" "$work/out" <("$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:conv" --dataflow "$work/searched/conv.yaml" --json) && pass || fail "searched dataflow re-simulates to the reported numbers"
grep -q "SpatialMap" "$work/searched/conv.m" && pass || fail "search writes MAESTRO directives"
expect_ok "random search on a network" "$dcp" search --method random --budget 20 --arch "$eyeriss" --network "$work/small.yaml" --quiet
grep -q "^total.*geomean" "$work/out" || fail "search table has no totals row: $(cat "$work/out")"
# One shape for the whole network: the shape written with --out, re-simulated over the network as
# a template, gives the totals and per-layer results the search reported; the same seed, the same
# shape.
expect_ok "per-network ga search" "$dcp" search --per-network --method ga --budget 20 --arch "$eyeriss" --network "$work/small.yaml" --out "$work/pernet" --json
cp "$work/out" "$work/pernet.json"
"$dcp" simulate --arch "$eyeriss" --network "$work/small.yaml" --dataflow "$work/pernet/ga_small.yaml" --json >"$work/pernet_sim.json" || fail "simulate the per-network shape"
python3 -c "
import json,sys
report=json.load(open(sys.argv[1]))
assert report==json.load(open(sys.argv[2])), 'the --out summary differs from --json'
assert report['per_network'] and report['shape_name']=='ga_small' and len(report['layers'])==3
totals=report['totals']
assert totals['shapes']<=20 and totals['simulator_calls']==3*totals['shapes'], totals
runs=list(json.load(open(sys.argv[3]))['runs'].values())[0]
assert [r['result'] for r in runs]==[r['result'] for r in report['layers']]
cycles=sum(r['count']*r['result']['cycles'] for r in runs)
energy=sum(r['count']*r['result']['energy_pj'] for r in runs)
assert cycles==totals['cycles'] and abs(energy-totals['energy_pj'])<=1e-9*energy, (cycles, energy, totals)
" "$work/pernet.json" "$work/pernet/search_ga_per_network.json" "$work/pernet_sim.json" && pass || fail "per-network shape re-simulates to the reported numbers"
expect_ok "per-network ga search again" "$dcp" search --per-network --method ga --budget 20 --arch "$eyeriss" --network "$work/small.yaml" --json
python3 -c "
import json,sys
first, again = (json.load(open(path)) for path in sys.argv[1:])
assert first['shape']==again['shape'] and first['score']==again['score']" "$work/pernet.json" "$work/out" && pass || fail "per-network search with the same seed finds the same shape"
expect_ok "per-network random search" "$dcp" search --per-network --method random --budget 10 --arch "$eyeriss" --network "$work/small.yaml" --quiet
grep -q "(best fixed)" "$work/out" && grep -q "^simulator calls: .* shapes x 3 distinct layers" "$work/out" && pass || fail "per-network table: $(cat "$work/out")"
expect_error "bad search method" "--method" "ga, random, exhaustive" -- "$dcp" search --method annealing --arch "$eyeriss" --layer "$work/small.yaml:conv"
expect_error "bad search budget" "--budget" ">= 1" -- "$dcp" search --budget 0 --arch "$eyeriss" --layer "$work/small.yaml:conv"
expect_error "bad search objective" "--objective" "latency, energy, edp" -- "$dcp" search --objective speed --arch "$eyeriss" --layer "$work/small.yaml:conv"
expect_error "exhaustive on a big layer" "--method exhaustive" "candidate dataflows" "search by GA or at random" -- "$dcp" search --method exhaustive --arch "$eyeriss" --layer "$layer"

# A build without torch (DCP_WITH_TORCH=OFF, the sanitizer build) refuses every learning command
# in one line before any work; the report needs a map, so it goes too.
if "$dcp" --version | grep -q "libtorch none"; then
  expect_error "train without torch" "no predictor support" -- "$dcp" train --traces "$work/whole.sqlite" --out "$work/p.pt"
  expect_error "eval without torch" "no predictor support" -- "$dcp" eval --predictor mapper/predictors/eyeriss.pt --traces "$work/whole.sqlite"
  expect_error "map without torch" "no predictor support" -- "$dcp" map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt
  expect_error "transfer without torch" "no predictor support" -- "$dcp" transfer --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --out "$work/t.pt"
else
# --- predictor and DCP mapping ---------------------------------------------------------------
# Train on the MobileNet-V2 sweep above (its layers split into train and held-out), then map.
expect_ok "train" "$dcp" train --traces "$work/whole.sqlite" --out "$work/predictor.pt" --epochs 20 --hidden 64 64 --quiet
grep -q "held-out layers" "$work/out" || fail "train prints held-out metrics: $(cat "$work/out")"
expect_ok "eval" "$dcp" eval --predictor "$work/predictor.pt" --traces "$work/whole.sqlite" --json
python3 -c "
import json,sys
m=json.load(open(sys.argv[1]))
assert m['rows']>0 and -1<=m['cycles']['spearman_rho']<=1, m" "$work/out" && pass || fail "eval json"
expect_ok "map" "$dcp" map --arch "$eyeriss" --network "$work/small.yaml" --predictor "$work/predictor.pt" --out "$work/mapped" --trace-steps "$work/steps.csv" --steps 20 --json
# Every written dataflow re-simulates to exactly the numbers dcp map reported.
for name in conv dw fc; do
  python3 -c "
import json,sys
name=sys.argv[3]
report=[l for l in json.load(open(sys.argv[1]))['layers'] if l['layer']==name][0]
run=list(json.load(open(sys.argv[2]))['runs'].values())[0][0]['result']
assert report['result']==run, (report['result'], run)" "$work/out" <("$dcp" simulate --arch "$eyeriss" --layer "$work/small.yaml:$name" --dataflow "$work/mapped/$name.yaml" --json) "$name" && pass || fail "mapped $name re-simulates to the reported numbers"
done
head -1 "$work/steps.csv" | grep -q "^layer,step,best_predicted_objective" && pass || fail "trace-steps header"
"$dcp" map --arch arch/presets/edge.yaml --layer "$work/small.yaml:conv" --predictor "$work/predictor.pt" --steps 5 --quiet >/dev/null 2>"$work/err" || fail "map on another arch"
grep -q "num_pes = 256 is outside the trained range 168..168" "$work/err" && pass || fail "out-of-range warning: $(cat "$work/err")"
# Few-shot transfer to edge: the warning names the parameters, the tuned predictor has none.
expect_ok "transfer" "$dcp" transfer --predictor "$work/predictor.pt" --arch arch/presets/edge.yaml --network "$work/small.yaml" --shots 8 --eval-samples 16 --out "$work/tuned.pt" --json
grep -q "num_pes = 256 is outside the trained range 168..168" "$work/err" && pass || fail "transfer warning: $(cat "$work/err")"
python3 -c "
import json,sys; t=json.load(open(sys.argv[1]))
assert t['shots']==8 and t['simulator_calls']==24 and t['after']['rows']==16, t" "$work/out" && pass || fail "transfer json"
expect_ok "map with the tuned predictor" "$dcp" map --arch arch/presets/edge.yaml --layer "$work/small.yaml:conv" --predictor "$work/tuned.pt" --steps 5 --quiet
[[ ! -s "$work/err" ]] && pass || fail "tuned predictor still warns: $(cat "$work/err")"
expect_error "transfer to a missing arch" "nosuch.yaml" -- "$dcp" transfer --predictor "$work/predictor.pt" --arch "$work/nosuch.yaml" --network "$work/small.yaml" --out "$work/t.pt"
expect_error "map with a bad objective" "--objective" "unknown term 'speed'" -- "$dcp" map --arch "$eyeriss" --layer "$work/small.yaml:conv" --predictor "$work/predictor.pt" --objective "0.5*speed+0.5*energy"
expect_error "map with a trace store as predictor" "whole.sqlite" "not a readable dcp predictor" -- "$dcp" map --arch "$eyeriss" --layer "$work/small.yaml:conv" --predictor "$work/whole.sqlite"
expect_error "train on random bytes" "random.sqlite" "not an SQLite file" -- "$dcp" train --traces "$work/random.sqlite" --out "$work/p.pt"

# --- report ----------------------------------------------------------------------------------
# The GA search of conv above is a baseline for one of the three mapped layers.
cp -r "$work/searched" "$work/mapped/ga"
expect_ok "report" "$dcp" report "$work/mapped" --out "$work/report"
grep -qxF "$work/report/index.html" "$work/out" || fail "report prints its page: $(cat "$work/out")"
grep -qF "<td>ga</td>" "$work/report/index.html" || fail "report table has no ga row"
figures=0
for figure in "$work"/report/*.png; do
  [[ -e $figure ]] || continue
  figures=$((figures + 1))
  grep -qF "src=\"$(basename "$figure")\"" "$work/report/index.html" || fail "index.html misses $(basename "$figure")"
done
[[ $figures -gt 0 ]] && pass || fail "report wrote no figures"
expect_error "report on a missing folder" "$work/nosuch" "dcp map --out" -- "$dcp" report "$work/nosuch" --out "$work/report2"
mkdir "$work/truncated"
head -c 200 "$work/mapped/map.json" >"$work/truncated/map.json"
expect_error "report on a truncated map.json" "truncated/map.json" "not valid JSON" -- "$dcp" report "$work/truncated" --out "$work/report2"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
