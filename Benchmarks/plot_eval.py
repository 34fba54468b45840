#!/usr/bin/env python3
"""Plots a `vectorsearch rag eval --json` report: each configuration's nDCG, MRR and recall at
one cutoff (bars) and its p50 latency (dots, right axis).

    python3 Benchmarks/plot_eval.py REPORT.json OUT.png [--cutoff 10]
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("out")
    parser.add_argument("--cutoff", type=int, default=10)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)
    metrics = [f"{m}@{args.cutoff}" for m in ("ndcg", "mrr", "recall")]
    configurations = report["configurations"]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(configurations)), 4))
    width = 0.8 / len(metrics)
    for i, metric in enumerate(metrics):
        xs = [j + (i - 1) * width for j in range(len(configurations))]
        ax.bar(xs, [c["means"].get(metric, 0) for c in configurations], width, label=metric)
    ax.set_xticks(range(len(configurations)), [c["name"] for c in configurations], rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"mean over {report['queries']} queries")
    latency = ax.twinx()
    latency.plot(range(len(configurations)), [c["latency_ms"]["p50"] for c in configurations], "ko", label="p50 latency")
    latency.set_ylabel("p50 latency, ms")
    latency.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
    ax.legend(handles, metrics + ["p50 latency"], loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
