#!/usr/bin/python3
"""Writes an HTML report with PNG figures for a folder written by `dcp map --out`.

Usage: scripts/report.py MAPPED_DIR OUT_DIR   (`dcp report` checks the inputs, then runs this)

MAPPED_DIR holds map.json and steps.csv from `dcp map --out`; every search_<method>.json (or
search_<method>_per_network.json) that `dcp search --out` wrote in it or in a subfolder is a
baseline beside the fixed dataflows. A map.json from `dcp map --pareto` adds latency-energy
scatters of its fronts, and one from `dcp map --per-network` the network scores.
Writes OUT_DIR/index.html and its PNGs with matplotlib's Agg backend: no display, no network,
and the same inputs give the same files.
"""
import csv
import html
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib import ticker  # noqa: E402

# Every figure this script can write; stale ones from an earlier run are removed, so index.html
# references every PNG in OUT_DIR.
LATENCY_ENERGY_PNG = "latency_energy.png"
PROPAGATION_PNG = "propagation.png"
PREDICTED_VS_SIMULATED_PNG = "predicted_vs_simulated.png"
ENERGY_BREAKDOWN_PNG = "energy_breakdown.png"
PE_UTILIZATION_PNG = "pe_utilization.png"
PARETO_NETWORK_PNG = "pareto_network.png"
PARETO_LAYERS_PNG = "pareto_layers.png"
PER_NETWORK_PNG = "per_network.png"
FIGURE_FILES = (LATENCY_ENERGY_PNG, PROPAGATION_PNG, PREDICTED_VS_SIMULATED_PNG,
                ENERGY_BREAKDOWN_PNG, PE_UTILIZATION_PNG, PARETO_NETWORK_PNG, PARETO_LAYERS_PNG,
                PER_NETWORK_PNG)

MAX_CURVE_PANELS = 12  # propagation small multiples; more would be too small to read
CURVE_COLUMNS = 4
DPI = 100


class Method:
    """One way of picking each layer's dataflow, with its per-layer simulated numbers."""

    def __init__(self, name, kind, objective_name, simulator_calls=None):
        self.name = name
        self.kind = kind  # "dcp", "fixed" or "search"
        self.objective_name = objective_name
        self.simulator_calls = simulator_calls
        self.network_score = None  # a per-network search's score: one shape for every layer
        self.by_layer = {}  # layer name -> {"cycles", "energy_pj", "objective", "pe_utilization"}


def layer_numbers(result, objective):
    """What the report shows of one layer's simulated pick."""
    return {"cycles": result["cycles"], "energy_pj": result["energy_pj"], "objective": objective,
            "pe_utilization": result["pe_utilization"]}


def load_methods(mapped_dir, report):
    """DCP, then each fixed dataflow (from map.json), then each search_*.json found."""
    objective_name = report["objective"]
    dcp = Method("dcp", "dcp", objective_name, report["totals"]["simulator_calls"])
    fixed = {}
    for row in report["layers"]:
        dcp.by_layer[row["layer"]] = layer_numbers(row["result"], row["objective"])
        for name, run in row["fixed"].items():
            method = fixed.setdefault(name, Method(name, "fixed", objective_name))
            method.by_layer[row["layer"]] = {"cycles": run["cycles"],
                                             "energy_pj": run["energy_pj"],
                                             "objective": run["objective"],
                                             "pe_utilization": None}
    searches = []
    for path in sorted(mapped_dir.rglob("search_*.json")):
        search = json.loads(path.read_text())
        relative_dir = path.parent.relative_to(mapped_dir).as_posix()
        # A search in a folder named after its method needs no more than the method's name.
        name = search["method"] + (" per-network" if search.get("per_network") else "")
        if relative_dir not in (".", name):
            name += f" ({relative_dir})"
        method = Method(name, "search", search["objective"], search["totals"]["simulator_calls"])
        method.network_score = search.get("score")
        for row in search["layers"]:
            method.by_layer[row["layer"]] = layer_numbers(row["result"], row["objective"])
        searches.append(method)
    return [dcp, *fixed.values(), *searches]


def load_curves(steps_path):
    """Layer name -> list of (step, best, mean, decoded), in the order steps.csv has them."""
    curves = {}
    if not steps_path.exists():
        return curves
    with steps_path.open(newline="") as file:
        for row in csv.DictReader(file):
            curves.setdefault(row["layer"], []).append(
                (int(row["step"]), float(row["best_predicted_objective"]),
                 float(row["mean_predicted_objective"]), row["decoded"] == "1"))
    return curves


def layer_axis(axis, layer_names):
    axis.set_xticks(range(len(layer_names)))
    axis.set_xticklabels(layer_names, rotation=90, fontsize=8)
    axis.set_xlim(-0.6, len(layer_names) - 0.4)


def figure_width(layer_names):
    return min(max(8.0, 2.0 + 0.45 * len(layer_names)), 40.0)


def save(figure, out_dir, file_name):
    figure.tight_layout()
    figure.savefig(out_dir / file_name, dpi=DPI)
    plt.close(figure)
    return file_name


def grouped_bars(axis, layer_names, methods, value):
    """One bar per method and layer of height `value(numbers)`; a baseline searched on other
    layers has no bar where it did not search."""
    width = 0.8 / len(methods)
    for index, method in enumerate(methods):
        positions, heights = [], []
        for position, layer in enumerate(layer_names):
            if layer in method.by_layer:
                positions.append(position - 0.4 + width * (index + 0.5))
                heights.append(value(method.by_layer[layer]))
        axis.bar(positions, heights, width, label=method.name)
    layer_axis(axis, layer_names)


def plot_latency_energy(out_dir, layer_names, methods):
    figure, (cycles_axis, energy_axis) = plt.subplots(
        2, 1, figsize=(figure_width(layer_names), 9), sharex=True)
    grouped_bars(cycles_axis, layer_names, methods, lambda numbers: numbers["cycles"])
    grouped_bars(energy_axis, layer_names, methods, lambda numbers: numbers["energy_pj"] * 1e-6)
    cycles_axis.set_ylabel("cycles")
    energy_axis.set_ylabel("energy (uJ)")
    for axis in (cycles_axis, energy_axis):
        axis.set_yscale("log")
        axis.grid(axis="y", which="major", alpha=0.3)
    cycles_axis.legend(ncol=min(len(methods), 6), fontsize=8, loc="lower left",
                       bbox_to_anchor=(0, 1.02))
    return save(figure, out_dir, LATENCY_ENERGY_PNG)


def small_multiples(layers, panel_width, panel_height):
    """A figure with one panel per layer, CURVE_COLUMNS a row, and its axes (unused ones hidden)."""
    rows = math.ceil(len(layers) / CURVE_COLUMNS)
    columns = min(len(layers), CURVE_COLUMNS)
    figure, axes = plt.subplots(rows, columns, figsize=(panel_width * columns, panel_height * rows),
                                squeeze=False)
    for axis in axes.flat[len(layers):]:
        axis.set_visible(False)
    return figure, axes


def plot_propagation(out_dir, curves, objective_name):
    layers = list(curves)[:MAX_CURVE_PANELS]
    figure, axes = small_multiples(layers, 3.6, 2.8)
    for axis, layer in zip(axes.flat, layers):
        steps, best, mean, decoded = zip(*curves[layer])
        axis.plot(steps, best, label="best code")
        axis.plot(steps, mean, linestyle="--", label="mean over codes")
        decode_steps = [step for step, is_decoded in zip(steps, decoded) if is_decoded]
        decode_best = [value for value, is_decoded in zip(best, decoded) if is_decoded]
        axis.plot(decode_steps, decode_best, "o", markersize=4, label="decoded")
        if min(best + mean) > 0:
            axis.set_yscale("log")
        axis.set_title(layer, fontsize=9)
        axis.set_xlabel("step", fontsize=8)
        axis.tick_params(labelsize=7)
    axes.flat[0].set_ylabel(f"predicted {objective_name}", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    return save(figure, out_dir, PROPAGATION_PNG)


def plot_predicted_vs_simulated(out_dir, report):
    # Layers of one shape share a mapping and list the same candidates; each point counts once.
    points = sorted({(candidate["predicted_cycles"], candidate["simulated_cycles"],
                      candidate["predicted_energy_pj"], candidate["simulated_energy_pj"])
                     for row in report["layers"] for candidate in row["verified"]})
    figure, axes = plt.subplots(1, 2, figsize=(11, 5))
    pairs = ((axes[0], "cycles", 0, 1), (axes[1], "energy (pJ)", 2, 3))
    for axis, quantity, predicted_index, simulated_index in pairs:
        kept = [(point[predicted_index], point[simulated_index]) for point in points
                if point[predicted_index] > 0 and point[simulated_index] > 0]
        predicted, simulated = zip(*kept)
        axis.scatter(simulated, predicted, s=12, alpha=0.6)
        low = min(predicted + simulated) / 1.5
        high = max(predicted + simulated) * 1.5
        axis.plot([low, high], [low, high], color="gray", linewidth=1,
                  label="predicted = simulated")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlim(low, high)
        axis.set_ylim(low, high)
        axis.set_xlabel(f"simulated {quantity}")
        axis.set_ylabel(f"predicted {quantity}")
        median_error = sorted(abs(p / s - 1) for p, s in kept)[len(kept) // 2]
        axis.set_title(f"{len(kept)} verified candidates, median error {median_error:.0%}",
                       fontsize=10)
        axis.legend(fontsize=8)
    return save(figure, out_dir, PREDICTED_VS_SIMULATED_PNG)


def energy_components(breakdown):
    """(label, pJ) per level and tensor, then the unnested terms (MAC, leakage)."""
    for key, value in breakdown.items():
        if isinstance(value, dict):
            for tensor, picojoules in value.items():
                yield f"{key} {tensor}", picojoules
        else:
            yield key, value


def plot_energy_breakdown(out_dir, report):
    layer_names = [row["layer"] for row in report["layers"]]
    shares = {}  # component -> share of each layer's energy, in percent
    for position, row in enumerate(report["layers"]):
        components = list(energy_components(row["result"]["energy_breakdown_pj"]))
        total = sum(picojoules for _, picojoules in components) or 1.0
        for label, picojoules in components:
            shares.setdefault(label, [0.0] * len(layer_names))[position] = 100 * picojoules / total
    # Components that are zero everywhere would only crowd the legend.
    shares = {label: values for label, values in shares.items() if any(values)}
    figure, axis = plt.subplots(figsize=(figure_width(layer_names) + 2, 5))
    colors = plt.get_cmap("tab20").colors
    bottoms = [0.0] * len(layer_names)
    for index, (label, values) in enumerate(shares.items()):
        axis.bar(range(len(layer_names)), values, 0.7, bottom=bottoms, label=label,
                 color=colors[index % len(colors)])
        bottoms = [bottom + value for bottom, value in zip(bottoms, values)]
    layer_axis(axis, layer_names)
    axis.set_ylim(0, 100)
    axis.set_ylabel("share of the layer's energy (%)")
    # Listed top-down in the order the segments stack, the legend reads like the bars.
    handles, labels = axis.get_legend_handles_labels()
    axis.legend(handles[::-1], labels[::-1], fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return save(figure, out_dir, ENERGY_BREAKDOWN_PNG)


def plot_pe_utilization(out_dir, layer_names, methods):
    with_utilization = [method for method in methods if method.kind != "fixed"]
    figure, axis = plt.subplots(figsize=(figure_width(layer_names), 4.5))
    grouped_bars(axis, layer_names, with_utilization,
                 lambda numbers: 100 * numbers["pe_utilization"])
    axis.set_ylim(0, 100)
    axis.set_ylabel("PE utilisation (%)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8)
    return save(figure, out_dir, PE_UTILIZATION_PNG)


def front_line(axis, points, label):
    """A front's points by cycles, joined, on log-log axes in cycles and uJ."""
    points = sorted((point["cycles"], point["energy_pj"] * 1e-6) for point in points)
    cycles, energy_uj = zip(*points)
    axis.plot(cycles, energy_uj, "o-", color="black", markersize=5, zorder=3, label=label)


def method_markers(axis, methods, numbers_of):
    """One marker per fixed dataflow and search that `numbers_of` gives (cycles, pJ) for."""
    for method in methods:
        if method.kind == "dcp":
            continue
        numbers = numbers_of(method)
        if numbers is None:
            continue
        marker = "s" if method.kind == "fixed" else "^"
        axis.plot(numbers[0], numbers[1] * 1e-6, marker, markersize=7, linestyle="none",
                  label=method.name)


def plain_number(value, _position=None):
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def minor_labels(wide):
    """Labels for the minor ticks of a log axis: over more than a decade only 2x and 5x each
    power of ten, which leaves room between them; within one, every tick."""
    def label(value, position=None):
        mantissa = round(value / 10 ** math.floor(math.log10(value) + 1e-9))
        return plain_number(value) if not wide or mantissa in (2, 5) else ""
    return ticker.FuncFormatter(label)


def log_axes(axis):
    """Log-log, labelled in plain numbers: a front often spans less than a decade, where
    matplotlib labels the minor ticks in scientific notation that overlaps. Call after plotting:
    the labels depend on the axes' ranges."""
    for scale_axis, set_scale in ((axis.xaxis, axis.set_xscale), (axis.yaxis, axis.set_yscale)):
        set_scale("log")
        low, high = scale_axis.get_view_interval()
        scale_axis.set_major_formatter(ticker.FuncFormatter(plain_number))
        scale_axis.set_minor_formatter(minor_labels(high > 10 * low))
    axis.tick_params(axis="x", which="both", labelrotation=30)
    axis.grid(which="major", alpha=0.3)


def network_cost(counts, method, layers):
    """(cycles, pJ) of `method` over `layers`, each `counts[layer]` times."""
    return (sum(counts[layer] * method.by_layer[layer]["cycles"] for layer in layers),
            sum(counts[layer] * method.by_layer[layer]["energy_pj"] for layer in layers))


def plot_pareto_network(out_dir, report, methods):
    """The network's front against the network totals of every method that mapped every layer."""
    counts = {row["layer"]: row["count"] for row in report["layers"]}

    def totals(method):
        if any(layer not in method.by_layer for layer in counts):
            return None
        return network_cost(counts, method, counts)

    figure, axis = plt.subplots(figsize=(8, 6))
    front_line(axis, report["pareto"]["network"], "DCP front (sums of re-simulated layers)")
    method_markers(axis, methods, totals)
    log_axes(axis)
    axis.set_xlabel("network cycles")
    axis.set_ylabel("network energy (uJ)")
    axis.legend(fontsize=8)
    return save(figure, out_dir, PARETO_NETWORK_PNG)


def plot_pareto_layers(out_dir, report, methods):
    """Per layer: every re-simulated candidate, the front, the fixed dataflows and the searches."""
    fronts = {row["layer"]: row["points"] for row in report["pareto"]["layers"]}
    rows_by_layer = {row["layer"]: row for row in report["layers"]}
    layers = list(fronts)[:MAX_CURVE_PANELS]
    figure, axes = small_multiples(layers, 3.8, 3.2)
    for axis, layer in zip(axes.flat, layers):
        candidates = rows_by_layer[layer]["verified"]
        axis.scatter([candidate["simulated_cycles"] for candidate in candidates],
                     [candidate["simulated_energy_pj"] * 1e-6 for candidate in candidates],
                     s=6, color="lightgray", label="re-simulated candidates")
        front_line(axis, fronts[layer], "DCP front")
        method_markers(axis, methods, lambda method: (
            (method.by_layer[layer]["cycles"], method.by_layer[layer]["energy_pj"])
            if layer in method.by_layer else None))
        log_axes(axis)
        axis.set_title(layer, fontsize=9)
        axis.set_xlabel("cycles", fontsize=8)
        axis.tick_params(which="both", labelsize=7)
    axes.flat[0].set_ylabel("energy (uJ)", fontsize=8)
    axes.flat[0].legend(fontsize=6)
    return save(figure, out_dir, PARETO_LAYERS_PNG)


def plot_per_network(out_dir, report, methods):
    """The per-network scores of map.json's methods and of every per-network search, and the
    score of each whole network DCP re-simulated, in the order it did."""
    per_network = report["per_network"]
    bars = [(row["method"], row["score"], row["simulator_calls"])
            for row in per_network["methods"]]
    bars += [(method.name, method.network_score, method.simulator_calls) for method in methods
             if method.network_score is not None and method.objective_name == report["objective"]]
    figure, (scores, verified) = plt.subplots(1, 2, figsize=(13, 0.9 + 0.35 * max(6, len(bars))))
    positions = range(len(bars))
    drawn = scores.barh(positions, [score for _, score, _ in bars], color="tab:blue")
    scores.bar_label(drawn, fmt="%.3f", fontsize=8)
    scores.set_yticks(positions)
    scores.set_yticklabels([f"{name} ({calls} calls)" for name, _, calls in bars], fontsize=8)
    scores.invert_yaxis()
    scores.axvline(1.0, color="gray", linestyle=":", linewidth=1)
    scores.set_xlabel("score (mean over layer occurrences of objective / best fixed)")

    checked = [row["score"] for row in per_network["verified"]]
    verified.plot(range(1, len(checked) + 1), checked, ".", color="lightgray",
                  label="re-simulated networks")
    verified.plot(range(1, len(checked) + 1),
                  [min(checked[:count]) for count in range(1, len(checked) + 1)],
                  color="tab:blue", label="best so far")
    dcp_score = per_network["methods"][0]["score"]
    verified.axhline(dcp_score, color="tab:green", linestyle="--",
                     label=f"{per_network['methods'][0]['method']} (with assembly)")
    verified.axhline(per_network["methods"][1]["score"], color="tab:red", linestyle=":",
                     label=per_network["methods"][1]["method"])
    verified.set_yscale("log")
    verified.set_xlabel("networks re-simulated")
    verified.set_ylabel("score")
    verified.legend(fontsize=8)
    return save(figure, out_dir, PER_NETWORK_PNG)


def summary_rows(report, methods):
    """Network totals per method; the gain is over each layer's best fixed dataflow."""
    counts = {row["layer"]: row["count"] for row in report["layers"]}
    best_fixed = {row["layer"]: min(run["objective"] for run in row["fixed"].values())
                  for row in report["layers"]}
    rows = []
    for method in methods:
        layers = [layer for layer in counts if layer in method.by_layer]
        cycles, energy_pj = network_cost(counts, method, layers)
        energy_uj = energy_pj * 1e-6
        if method.objective_name != report["objective"]:
            gain = f"n/a (objective {method.objective_name})"
        else:
            log_gains = [math.log(best_fixed[layer] / method.by_layer[layer]["objective"])
                         for layer in layers]
            gain = f"{math.exp(sum(log_gains) / len(log_gains)):.2f}x" if layers else "n/a"
        calls = "" if method.simulator_calls is None else str(method.simulator_calls)
        rows.append((method.name, f"{len(layers)} of {len(counts)}", f"{cycles:.0f}",
                     f"{energy_uj:.3f}", f"{cycles * energy_uj:.3g}", gain, calls))
    return rows


PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dcp report: {title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
</style>
<script>
// Marks the page once every figure has loaded, so a headless browser can check that none is
// broken (tests/report_renders.sh reads the attribute back from the DOM).
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const loaded = images.filter((image) => image.complete && image.naturalWidth > 0);
  document.body.dataset.imagesLoaded = `${{loaded.length}} of ${{images.length}}`;
}});
</script>
</head>
<body>
<h1>dcp report: {title}</h1>
<p>{description}</p>
<h2>Network totals</h2>
<table>
<tr>{header}</tr>
{rows}
</table>
<p>Totals sum each layer times its count. Gain: geometric mean over the layers of the best fixed
dataflow's objective divided by the method's (above 1 is better than every fixed dataflow).</p>
{figures}
</body>
</html>
"""

SUMMARY_HEADER = ("method", "layers", "cycles", "energy (uJ)", "EDP (cycle x uJ)",
                  "geomean gain", "simulator calls")


def figure_html(file_name, heading, caption):
    return (f"<h2>{html.escape(heading)}</h2>\n<p>{html.escape(caption)}</p>\n"
            f'<img src="{file_name}" alt="{html.escape(heading)}">')


def write_page(out_dir, mapped_dir, report, methods, figures):
    cell = html.escape
    rows = "\n".join("<tr>" + "".join(f"<td>{cell(value)}</td>" for value in row) + "</tr>"
                     for row in summary_rows(report, methods))
    page = PAGE_TEMPLATE.format(
        title=cell(mapped_dir.name),
        description=cell(f"{len(report['layers'])} layers on {report['arch']}, objective "
                         f"{report['objective']}, from {mapped_dir}."),
        header="".join(f"<th>{cell(name)}</th>" for name in SUMMARY_HEADER),
        rows=rows,
        figures="\n".join(figure_html(*figure) for figure in figures))
    (out_dir / "index.html").write_text(page)


def main(mapped_dir, out_dir):
    report = json.loads((mapped_dir / "map.json").read_text())
    methods = load_methods(mapped_dir, report)
    curves = load_curves(mapped_dir / "steps.csv")
    layer_names = [row["layer"] for row in report["layers"]]
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name in FIGURE_FILES:
        (out_dir / file_name).unlink(missing_ok=True)

    figures = [(plot_latency_energy(out_dir, layer_names, methods), "Latency and energy per layer",
                "DCP's pick against each fixed dataflow and each search baseline (log scale).")]
    if curves:
        shown = min(len(curves), MAX_CURVE_PANELS)
        figures.append((plot_propagation(out_dir, curves, report["objective"]),
                        "Propagation curves",
                        f"Predicted {report['objective']} of the best and the mean code per step, "
                        f"decode points marked; {shown} of {len(curves)} mapped layers."))
    figures += [
        (plot_predicted_vs_simulated(out_dir, report), "Predicted against simulated",
         "Every re-simulated candidate of every layer (log-log); the diagonal is a perfect "
         "prediction."),
        (plot_energy_breakdown(out_dir, report), "Energy breakdown",
         "DCP's pick per layer, by memory level and tensor, plus MACs and leakage."),
        (plot_pe_utilization(out_dir, layer_names, methods), "PE utilisation",
         "Share of the PEs busy over each layer's run (fixed dataflows report no utilisation "
         "in map.json)."),
    ]
    if "pareto" in report:
        weights = ", ".join(f"{weight:g}" for weight in report["pareto"]["latency_weights"])
        shown = min(len(report["pareto"]["layers"]), MAX_CURVE_PANELS)
        figures += [
            (plot_pareto_network(out_dir, report, methods), "Latency-energy front of the network",
             f"For each weighting w*latency+(1-w)*energy (w = {weights}), the sum over the "
             "layers, times their counts, of each layer's front point the weighting ranks first; "
             "the non-dominated sums, against the fixed dataflows and every search that mapped "
             "every layer (log-log)."),
            (plot_pareto_layers(out_dir, report, methods), "Latency-energy front per layer",
             "Every dataflow the weightings' mappings re-simulated (gray), the non-dominated ones "
             f"joined, the fixed dataflows and the searches; {shown} of "
             f"{len(report['pareto']['layers'])} layers (log-log)."),
        ]
    if "per_network" in report:
        figures.append(
            (plot_per_network(out_dir, report, methods), "One dataflow for the whole network",
             "Left: the network score of DCP's one dataflow shape, the best single fixed "
             "dataflow, per-layer DCP, each layer's best fixed dataflow and every per-network "
             "search (1 = each layer as good as its best fixed dataflow; lower is better). "
             "Right: the score of each whole network DCP re-simulated, in order; assembly picks "
             "each layer's best simulated dataflow that fits one structure, without a further "
             "simulator call."))
    write_page(out_dir, mapped_dir, report, methods, figures)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: scripts/report.py MAPPED_DIR OUT_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
