#!/usr/bin/env bash
# Bad inputs across every subcommand: each must end in exit status 2 and exactly one stderr line
# "dcp: error: ..." that contains the expected text, before any work starts. Prints the table
# (input, exit status, message; the scratch folder shows as W). Usage: tests/bad_inputs.sh DCP
# (run from the repo root; ctest runs it).
set -uo pipefail
dcp="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/stderr_lines.sh"
no_torch=0
"$dcp" --version | grep -q "libtorch none" && no_torch=1
failed=0
rows=0

eyeriss=arch/presets/eyeriss.yaml
layer=workloads/models/resnet50.yaml:conv2_1a
small=tests/data/sweep_layers.yaml
head -c 4096 /dev/urandom >"$work/random.bin"
touch "$work/file.txt"
"$dcp" sweep --arch "$eyeriss" --layers "$small" --samples 20 --out "$work/good.sqlite" --quiet \
  >/dev/null || { echo "FAIL: the sweep that makes a good store" >&2; exit 1; }

# bad TEXT [--learns] -- ARGS...: `dcp ARGS` fails as above with TEXT in its message. A learning
# command (--learns) in a build without torch says instead that the build has no predictor.
bad() {
  local text="$1"
  shift
  if [[ $1 == --learns ]]; then
    shift
    [[ $no_torch == 1 ]] && text="no predictor support"
  fi
  shift
  "$dcp" "$@" >"$work/out" 2>"$work/err"
  local status=$?
  local message
  stderr_lines "$work/err" >"$work/err.own"
  mv "$work/err.own" "$work/err"
  message="$(cat "$work/err")"
  rows=$((rows + 1))
  local input="dcp $*"
  printf '| `%s` | %s | %s |\n' "${input//$work/W}" "$status" "${message//$work/W}"
  if [[ $status -ne 2 || $(wc -l <"$work/err") -ne 1 || $message != "dcp: error: "* ||
        $message != *"$text"* ]]; then
    echo "FAIL: $input: want exit 2 and one line 'dcp: error: ...$text...'" >&2
    failed=$((failed + 1))
  fi
}

echo "| input | exit | message |"
echo "|---|---|---|"
bad "did you mean 'simulate'" -- simulat --arch "$eyeriss"
bad "see dcp --help" --
bad "did you mean '--json'" -- simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --jsn
bad "is neither a fixed dataflow nor a dataflow file" -- simulate --arch "$eyeriss" --layer "$layer" --dataflow eyeriss
bad "nosuch.yaml" -- simulate --arch nosuch.yaml --layer "$layer" --dataflow nvdla
bad "excludes" -- simulate --arch "$eyeriss" --layer "$layer" --network "$small" --dataflow nvdla
bad "nolayer" -- simulate --arch "$eyeriss" --layer workloads/models/resnet50.yaml:nolayer --dataflow nvdla
bad "--batch" -- simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --batch 0
printf 'name: tall\nlayers:\n  - {name: tall, type: conv, in_channels: 1, out_channels: 1, in_h: 1048576, in_w: 4, kernel: 1}\n' >"$work/tall.yaml"
bad "tall.im2col rows (Y x X): 4194304 is out of range (allowed: 1..1048576)" -- simulate --arch "$eyeriss" --layer "$work/tall.yaml:tall" --im2col
bad "is a directory" -- simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --timeline "$work"
bad "does not exist" -- simulate --arch "$eyeriss" --layer "$layer" --dataflow nvdla --write-dataflow "$work/missing/d.yaml"
bad "is a directory" -- sweep --arch "$eyeriss" --layers "$small" --samples 10 --out "$work"
bad "--samples" -- sweep --arch "$eyeriss" --layers "$small" --samples 0 --out "$work/s.sqlite"
bad "--shard" -- sweep --arch "$eyeriss" --layers "$small" --samples 10 --shard 3/2 --out "$work/s.sqlite"
bad "--mix" -- sweep --arch "$eyeriss" --layers "$small" --samples 10 --mix walk=1 --out "$work/s.sqlite"
bad "random.bin" -- sweep --merge "$work/good.sqlite" "$work/random.bin" --out "$work/merged.sqlite"
bad "--configs" -- arch-space arch/spaces/edge-to-cloud.yaml --configs 0
bad "nosuch.yaml" -- arch-space arch/spaces/nosuch.yaml --configs 2
bad "does not exist" -- train --traces "$work/good.sqlite" --out "$work/missing_dir/p.pt"
bad "--epochs" -- train --traces "$work/good.sqlite" --out "$work/p.pt" --epochs 0
bad "--epochs" -- train --traces "$work/good.sqlite" --out "$work/p.pt" --epochs abc
bad "not a readable dcp predictor file" --learns -- eval --predictor "$work/random.bin" --traces "$work/good.sqlite"
bad "--objective" --learns -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --objective speed
bad "is not a directory" -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --out "$work/file.txt"
bad "--objective excludes --pareto" -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --pareto --objective latency
bad "--pareto-points" -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --pareto --pareto-points 1
bad "--pareto-points requires --pareto" -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --pareto-points 3
bad "--per-network requires --network" -- map --arch "$eyeriss" --layer "$layer" --predictor mapper/predictors/eyeriss.pt --per-network
bad "--pareto excludes --per-network" -- map --arch "$eyeriss" --network "$small" --predictor mapper/predictors/eyeriss.pt --per-network --pareto
bad "--shots" -- transfer --predictor mapper/predictors/eyeriss.pt --arch arch/presets/edge.yaml --layer "$layer" --shots 0 --out "$work/t.pt"
bad "is a directory" -- transfer --predictor mapper/predictors/eyeriss.pt --arch arch/presets/edge.yaml --layer "$layer" --out "$work"
bad "--method" -- search --method annealing --arch "$eyeriss" --layer "$layer"
bad "--budget" -- search --budget 0 --arch "$eyeriss" --layer "$layer"
bad "--per-network: cannot be combined with --layer" -- search --per-network --arch "$eyeriss" --layer "$layer"
bad "--per-network: cannot be combined with --random-layers" -- search --per-network --arch "$eyeriss" --random-layers 2
bad "--per-network: cannot be combined with --method exhaustive" -- search --per-network --method exhaustive --arch "$eyeriss" --network "$small"
bad "dcp map --out" -- report "$work/nosuch" --out "$work/report"
bad "random.bin" -- import "$work/random.bin" --out "$work/net.yaml"
bad "is a directory" -- import tests/data/tiny_net.onnx --out "$work"
bad "nosuch.yaml" -- import-timeloop "$work/nosuch.yaml"
bad "--format" -- export --dataflow nvdla --arch "$eyeriss" --layer "$layer" --format dot

# A failed merge leaves no output file, not even a partial one.
if [[ -e $work/merged.sqlite || -e $work/merged.sqlite.merging ]]; then
  echo "FAIL: the failed merge left an output file" >&2
  failed=$((failed + 1))
fi
echo "$rows bad inputs, $failed failed"
[[ $failed -eq 0 ]]
