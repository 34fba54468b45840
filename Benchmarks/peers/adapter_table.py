#!/usr/bin/env python3
"""Markdown table of query adapters from `rag eval --json` reports on the same questions:

    python3 adapter_table.py BASE_NAME OURS_REPORT:OURS_NAME [LABEL=REPORT:NAME ...]

Each configuration's nDCG@10 and MRR@10, the change against BASE_NAME (taken from OURS_REPORT),
the paired randomization test's p-value against it, and against ours (10,000 sign flips)."""
import json
import sys

import numpy as np


def per_query(report, name):
    for c in report["configurations"]:
        if c["name"] == name:
            return c["per_query"]
    sys.exit(f"no configuration {name}")


def p_value(a, b, flips=10_000, seed=20261207):
    d = np.asarray(b) - np.asarray(a)
    observed = abs(d.sum())
    if observed <= 1e-12:
        return 1.0
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(flips, len(d)))
    return (np.sum(np.abs(signs @ d) >= observed - 1e-12) + 1) / (flips + 1)


def main():
    base_name, ours = sys.argv[1], sys.argv[2]
    path, name = ours.split(":")
    ours_report = json.load(open(path))
    base = per_query(ours_report, base_name)
    ours_q = per_query(ours_report, name)
    rows = [("base model (no adapter)", base), ("ours: " + name, ours_q)]
    for item in sys.argv[3:]:
        label, rest = item.split("=", 1)
        path, name = rest.split(":")
        rows.append((label, per_query(json.load(open(path)), name)))
    queries = sorted(base)
    print("| adapter | nDCG@10 | Δ | p vs base | p vs ours | MRR@10 | Δ | p vs base | p vs ours |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, values in rows:
        cells = [label]
        for metric in ("ndcg@10", "mrr@10"):
            a = [base[q][metric] for q in queries]
            o = [ours_q[q][metric] for q in queries]
            v = [values[q][metric] for q in queries]
            mean, delta = np.mean(v), 100 * (np.mean(v) - np.mean(a))
            cells += [f"{mean:.4f}", f"{delta:+.2f}", f"{p_value(a, v):.4f}" if values is not base else "-",
                      f"{p_value(o, v):.4f}" if values is not ours_q else "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
