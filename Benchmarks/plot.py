#!/usr/bin/env python3
"""Plots a compare.sh results directory: recall@k (x) against queries/s (log y), one at a time on
one thread and batched, with each system's Pareto frontier; build time and memory per vector as
bars. Each point is the median over repeats of the runs at one parameter value.
usage: plot.py RESULTS_DIR [--title TEXT]   (writes RESULTS_DIR/plot.png and plot.svg)"""
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


def median_points(reports):
    """(params, recall, qps, batch_qps) per parameter value, medians over the repeats."""
    groups = {}
    for report in reports:
        for p in report["points"]:
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--title", default="")
    a = parser.parse_args()
    systems = load(a.directory)
    if not systems:
        raise SystemExit(f"{a.directory}: no <system>-<repeat>.json reports")
    k = next(iter(systems.values()))[0]["k"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), gridspec_kw={"height_ratios": [3, 2]})
    for ax, field, label in [(axes[0][0], 2, "queries/s, one at a time, 1 thread"),
                             (axes[0][1], 3, "queries/s, batched")]:
        for i, (system, reports) in enumerate(systems.items()):
            points = median_points(reports)
            xy = [(p[1], p[field]) for p in points]
            color = f"C{i}"
            ax.scatter([x for x, _ in xy], [y for _, y in xy], color=color, s=14, alpha=0.5)
            front = pareto(xy)
            ax.plot([x for x, _ in front], [y for _, y in front], color=color, marker="o", markersize=4,
                    label=LABELS.get(system, system))
        threads = next(iter(systems.values()))[0]["threads"]
        ax.set_yscale("log")
        ax.set_xlabel(f"recall@{k}")
        ax.set_ylabel(label if field == 2 else f"{label} ({threads} threads)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    names = [LABELS.get(s, s) for s in systems]
    colors = [f"C{i}" for i in range(len(systems))]
    builds = [statistics.median(r["build_seconds"] for r in rs) for rs in systems.values()]
    memory = [statistics.median((r.get("index_rss_bytes", r["index_bytes"]) - r["n_base"] * r["dimension"] * 4) / r["n_base"]
                                for r in rs) for rs in systems.values()]
    for ax, values, label, fmt in [(axes[1][0], builds, "build seconds", "{:.2f}"),
                                   (axes[1][1], memory, "resident bytes per vector beyond the raw vectors", "{:.0f}")]:
        bars = ax.bar(names, values, color=colors)
        ax.bar_label(bars, [fmt.format(v) for v in values])
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=15)
    r0 = next(iter(systems.values()))[0]
    repeats = min(len(v) for v in systems.values())
    fig.suptitle(f"{a.title or os.path.basename(a.directory)}: {r0['n_base']:,} × {r0['dimension']}, "
                 f"{r0['n_queries']:,} queries, {r0['metric']}; " + ("one run" if repeats == 1 else f"medians of {repeats} repeats"))
    fig.tight_layout()
    for ext in ["png", "svg"]:
        fig.savefig(os.path.join(a.directory, f"plot.{ext}"), dpi=110)
    print(f"wrote {a.directory}/plot.png and plot.svg")


if __name__ == "__main__":
    main()
