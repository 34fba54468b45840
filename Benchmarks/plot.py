#!/usr/bin/env python3
"""Plots a compare.sh results directory: recall@k (x) against queries/s (log y), one at a time on
one thread and batched, with each system's Pareto frontier; build time and memory per vector as
bars. Each point is the median over repeats of the runs at one parameter value. When the reports
hold a filtered track, plot-filtered shows the same frontiers per filter, one row each.
usage: plot.py RESULTS_DIR [--title TEXT]   (writes RESULTS_DIR/plot.png and plot.svg, and
                                              plot-filtered.png and .svg)"""
import argparse, glob, json, os, re, statistics

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ORDER = ["vectorsearch", "hnswlib", "faiss", "usearch", "faiss-ivf"]
LABELS = {"vectorsearch": "VectorSearch", "hnswlib": "hnswlib", "faiss": "FAISS HNSWFlat", "usearch": "USearch",
          "faiss-ivf": "FAISS IVFFlat"}


def load(directory):
    """system -> list of reports (one per repeat)."""
    reports = {}
    for path in sorted(glob.glob(os.path.join(directory, "*-[0-9]*.json"))):
        m = re.fullmatch(r"(.+)-(\d+)\.json", os.path.basename(path))
        if m:
            reports.setdefault(m.group(1), []).append(json.load(open(path)))
    return {s: reports[s] for s in sorted(reports, key=lambda s: (ORDER.index(s) if s in ORDER else 99, s))}


def median_points(runs):
    """(params, recall, qps, batch_qps) per parameter value, medians over the repeats; `runs` are the
    repeats' point lists."""
    groups = {}
    for points in runs:
        for p in points:
            groups.setdefault(tuple(sorted(p["params"].items())), []).append(p)
    return [(dict(key), statistics.median(p["recall"] for p in ps), statistics.median(p["qps"] for p in ps),
             statistics.median(p["batch_qps"] for p in ps)) for key, ps in groups.items()]


def pareto(points):
    """The points no other point beats on both recall and speed, by recall."""
    best, frontier = 0.0, []
    for recall, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best:
            frontier.append((recall, qps))
            best = qps
    return sorted(frontier)


def draw_frontiers(ax, runs_by_system, field, k, label, title=None):
    """One scatter of every median point and one Pareto line per system; field 2 = 1 thread, 3 = batched."""
    for i, (system, runs) in enumerate(runs_by_system.items()):
        xy = [(p[1], p[field]) for p in median_points(runs)]
        color = f"C{ORDER.index(system) if system in ORDER else i}"
        ax.scatter([x for x, _ in xy], [y for _, y in xy], color=color, s=14, alpha=0.5)
        front = pareto(xy)
        ax.plot([x for x, _ in front], [y for _, y in front], color=color, marker="o", markersize=4,
                label=LABELS.get(system, system))
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{k}")
    ax.set_ylabel(label)
    if title:
        ax.set_title(title, fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")


def heading(title, systems):
    r0 = next(iter(systems.values()))[0]
    repeats = min(len(v) for v in systems.values())
    return (f"{title}: {r0['n_base']:,} × {r0['dimension']}, {r0['n_queries']:,} queries, {r0['metric']}; "
            + ("one run" if repeats == 1 else f"medians of {repeats} repeats"))


def save(fig, directory, name):
    for ext in ["png", "svg"]:
        fig.savefig(os.path.join(directory, f"{name}.{ext}"), dpi=110)
    print(f"wrote {directory}/{name}.png and {name}.svg")


def plot_unfiltered(systems, directory, title):
    r0 = next(iter(systems.values()))[0]
    k, threads = r0["k"], r0["threads"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), gridspec_kw={"height_ratios": [3, 2]})
    runs = {s: [r["points"] for r in rs] for s, rs in systems.items()}
    draw_frontiers(axes[0][0], runs, 2, k, "queries/s, one at a time, 1 thread")
    draw_frontiers(axes[0][1], runs, 3, k, f"queries/s, batched ({threads} threads)")
    names = [LABELS.get(s, s) for s in systems]
    colors = [f"C{ORDER.index(s) if s in ORDER else i}" for i, s in enumerate(systems)]
    builds = [statistics.median(r["build_seconds"] for r in rs) for rs in systems.values()]
    memory = [statistics.median((r.get("index_rss_bytes", r["index_bytes"]) - r["n_base"] * r["dimension"] * 4) / r["n_base"]
                                for r in rs) for rs in systems.values()]
    for ax, values, label, fmt in [(axes[1][0], builds, "build seconds", "{:.2f}"),
                                   (axes[1][1], memory, "resident bytes per vector beyond the raw vectors", "{:.0f}")]:
        bars = ax.bar(names, values, color=colors)
        ax.bar_label(bars, [fmt.format(v) for v in values])
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=15)
    fig.suptitle(heading(title, systems))
    fig.tight_layout()
    save(fig, directory, "plot")


def plot_filtered(systems, directory, title):
    """One row per filter (every system measures the same filters in the same order): the frontiers
    one at a time on 1 thread and batched."""
    systems = {s: rs for s, rs in systems.items() if all(r.get("filtered") for r in rs)}
    if not systems:
        return
    r0 = next(iter(systems.values()))[0]
    k, threads, filters = r0["k"], r0["threads"], r0["filtered"]
    fig, axes = plt.subplots(len(filters), 2, figsize=(12, 4.2 * len(filters)), squeeze=False)
    for row, f in enumerate(filters):
        runs = {s: [r["filtered"][row]["points"] for r in rs if len(r["filtered"]) > row] for s, rs in systems.items()}
        share = 100 * f["match_count"] / r0["n_base"]
        name = f"selectivity {f['target_selectivity']}" if f.get("target_selectivity") is not None else f["filter"]
        name = f"{name}: {f['match_count']:,} of {r0['n_base']:,} match ({share:.2f} %)"
        draw_frontiers(axes[row][0], runs, 2, k, "queries/s, one at a time, 1 thread", name)
        draw_frontiers(axes[row][1], runs, 3, k, f"queries/s, batched ({threads} threads)", name)
    fig.suptitle("filtered: " + heading(title, systems))
    fig.tight_layout(rect=(0, 0, 1, 0.99))
    save(fig, directory, "plot-filtered")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--title", default="")
    a = parser.parse_args()
    systems = load(a.directory)
    if not systems:
        raise SystemExit(f"{a.directory}: no <system>-<repeat>.json reports")
    title = a.title or os.path.basename(a.directory)
    plot_unfiltered(systems, a.directory, title)
    plot_filtered(systems, a.directory, title)


if __name__ == "__main__":
    main()
