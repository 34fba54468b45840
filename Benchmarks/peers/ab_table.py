"""Ratios B/A of two vectorsearch builds from the reports Benchmarks/ab.sh writes: per index
kind and parameter point, the median over repeats of single-query and batched queries/s, with
the range of the per-repeat ratios.
usage: ab_table.py RESULTS_DIR"""
import glob, json, os, statistics, sys
from collections import defaultdict

directory = sys.argv[1]
ratios = defaultdict(lambda: ([], [], []))
for b_path in sorted(glob.glob(f"{directory}/B-*.json")):
    a_path = os.path.join(directory, "A-" + os.path.basename(b_path)[2:])
    kind = os.path.basename(b_path).split("-")[1]
    a_points = {json.dumps(p["params"], sort_keys=True): p for p in json.load(open(a_path))["points"]}
    for p in json.load(open(b_path))["points"]:
        key = json.dumps(p["params"], sort_keys=True)
        q = a_points[key]
        single, batch, recall = ratios[(kind, key)]
        single.append(p["qps"] / q["qps"])
        batch.append(p["batch_qps"] / q["batch_qps"])
        recall.append((q["recall"], p["recall"]))
print("| index | params | recall A / B | single q/s B/A median (range) | batch q/s B/A median (range) |")
print("|---|---|---|---|---|")
for (kind, key), (single, batch, recall) in sorted(ratios.items()):
    params = ", ".join(f"{k} {v}" for k, v in json.loads(key).items()) or "-"
    print(f"| {kind} | {params} | {recall[0][0]:.4f} / {recall[0][1]:.4f} | {statistics.median(single):.3f} "
          f"({min(single):.2f}–{max(single):.2f}) | {statistics.median(batch):.3f} ({min(batch):.2f}–{max(batch):.2f}) |")
