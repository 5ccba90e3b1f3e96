"""What the benchmark scripts share: running dcp with --json, caching long searches, and the
geomeans and tables they print."""
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DCP = os.environ.get("DCP", os.path.join(ROOT, "build", "cli", "dcp"))


def run_json(args, core=None):
    """Runs dcp with --json (pinned to one core if asked); returns (parsed output, wall seconds)."""
    command = ([] if core is None else ["taskset", "-c", str(core)]) + [DCP] + args + ["--json"]
    start = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if completed.returncode != 0:
        sys.exit(f"dcp {' '.join(args)} failed: {completed.stderr.strip()}")
    return json.loads(completed.stdout), seconds


def cached_json(path, args, core=None):
    """dcp's --json report and wall seconds, from `path` when an earlier run left them there
    (searches and maps are deterministic for a seed); None as the path disables the cache."""
    if path and os.path.exists(path):
        with open(path) as cached:
            entry = json.load(cached)
        return entry["report"], entry["seconds"]
    report, seconds = run_json(args, core)
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as cached:
            json.dump({"report": report, "seconds": seconds}, cached)
    return report, seconds


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def distinct(layers):
    """One entry per distinct loop nest: dcp map and dcp search name the first layer of a nest in
    its later layers' `reused_from`."""
    return [layer for layer in layers if not layer.get("reused_from")]


def method_row(name, layers, seconds, calls=None):
    """Geomeans over `layers`; simulator calls per layer from their own counts unless given."""
    results = [layer["result"] for layer in layers]
    if calls is None:
        calls = sum(layer["simulator_calls"] for layer in layers)
    return {
        "method": name,
        "edp": geomean([r["cycles"] * r["energy_pj"] for r in results]),
        "cycles": geomean([r["cycles"] for r in results]),
        "energy_pj": geomean([r["energy_pj"] for r in results]),
        "calls_per_layer": calls / max(1, len(layers)),
        "seconds": seconds,
    }


def spearman(a, b):
    def ranks(values):
        order = sorted(range(len(values)), key=lambda i: values[i])
        rank = [0.0] * len(values)
        for position, i in enumerate(order):
            rank[i] = position
        return rank
    ra, rb = ranks(a), ranks(b)
    mean = (len(a) - 1) / 2
    cov = sum((x - mean) * (y - mean) for x, y in zip(ra, rb))
    var = sum((x - mean) ** 2 for x in ra)
    return cov / var if var else float("nan")


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else 0.5 * (values[middle - 1] + values[middle])


def print_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))


