"""Summarises the filtered track of compare.sh results: per selectivity and system, the median over repeats of
queries/s at recall@10 = 0.90 / 0.95 (1 thread and batched) and the best recall reached, then
ours / peer ratios, and our planned strategy per point. usage: filtered_table.py RESULTS_DIR"""
import glob, json, os, statistics, sys

directory = sys.argv[1]
systems = ["vectorsearch", "hnswlib", "faiss", "usearch", "faiss-ivf"]
reports = {s: [json.load(open(p)) for p in sorted(glob.glob(os.path.join(directory, f"{s}-[0-9]*.json")))] for s in systems}
reports = {s: r for s, r in reports.items() if r}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="{:.0f}"):
    return spec.format(v) if v is not None else "-"


# Every system measures the same filters in the same order: metadata filters first, then selectivities.
runs_by_position = {}
for system, rs in reports.items():
    for r in rs:
        for position, run in enumerate(r.get("filtered", [])):
            runs_by_position.setdefault(position, {}).setdefault(system, []).append(run)

for position in sorted(runs_by_position):
    per_system = runs_by_position[position]
    first = next(iter(per_system.values()))[0]
    target, matches, n = first.get("target_selectivity"), first["match_count"], reports[next(iter(per_system))][0]["n_base"]
    name = f"selectivity {target}" if target is not None else f"filter `{first['filter']}`"
    print(f"\n#### {name} ({matches} matches, {100 * matches / n:.2f} %)\n")
    print("| system | runs | q/s @0.90 | @0.95 | batch @0.90 | @0.95 | best recall | match count |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = {}
    for system, runs in per_system.items():
        row = {t + b: med([run.get("qps_at_recall", {}).get(t, {}).get(k) for run in runs])
               for t in ["0.90", "0.95"] for b, k in [("", "qps"), ("b", "batch_qps")]}
        row["recall"] = med([max((p["recall"] for p in run["points"]), default=None) for run in runs])
        rows[system] = row
        version = reports[system][0].get("system_version", "")
        print(f"| {system} {version} | {len(runs)} | {fmt(row['0.90'])} | {fmt(row['0.95'])} | {fmt(row['0.90b'])} | "
              f"{fmt(row['0.95b'])} | {fmt(row['recall'], '{:.4f}')} | {runs[0]['match_count']} |")
    ours = rows.get("vectorsearch")
    if ours:
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        print("\n| ours / peer | q/s @0.90 | q/s @0.95 | batch @0.90 | batch @0.95 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for system, r in rows.items():
            if system != "vectorsearch":
                print(f"| {system} | {ratio(ours['0.90'], r['0.90'])} | {ratio(ours['0.95'], r['0.95'])} | "
                      f"{ratio(ours['0.90b'], r['0.90b'])} | {ratio(ours['0.95b'], r['0.95b'])} |")
        run = per_system["vectorsearch"][0]
        print("\nour strategy per point: " + ", ".join(
            "{}={} {} (recall {:.4f})".format(*next(iter(p["params"].items())), p.get("strategy"), p["recall"])
            for p in run["points"]))
