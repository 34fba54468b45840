"""Summarises compare.sh results: per system, the median over repeats of queries/s at
recall@10 = 0.90 / 0.95 / 0.99 (1 thread and batched), build seconds and index bytes per vector
beyond the raw vectors; then ours / peer ratios. usage: table.py RESULTS_DIR"""
import glob, json, os, statistics, sys

directory = sys.argv[1]
systems = ["vectorsearch", "hnswlib", "faiss", "usearch", "faiss-ivf"]
rows = {}
for system in systems:
    reports = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(directory, f"{system}-[0-9]*.json")))]
    if not reports:
        continue
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None
    row = {"version": reports[0].get("system_version", ""), "runs": len(reports),
           "build": med([r["build_seconds"] for r in reports]),
           "bytes": med([(r.get("index_rss_bytes", r["index_bytes"]) - r["n_base"] * r["dimension"] * 4) / r["n_base"]
                         for r in reports])}
    for target in ["0.90", "0.95", "0.99"]:
        row[target] = med([r.get("qps_at_recall", {}).get(target, {}).get("qps") for r in reports])
        row[target + "b"] = med([r.get("qps_at_recall", {}).get(target, {}).get("batch_qps") for r in reports])
    rows[system] = row

def fmt(v, spec="{:.0f}"):
    return spec.format(v) if v is not None else "-"

print("| system | runs | q/s @0.90 | @0.95 | @0.99 | batch @0.90 | @0.95 | @0.99 | build s | resident bytes/vector beyond raw |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for system, r in rows.items():
    name = system + (f" {r['version']}" if r["version"] else "")
    print(f"| {name} | {r['runs']} | {fmt(r['0.90'])} | {fmt(r['0.95'])} | {fmt(r['0.99'])} | {fmt(r['0.90b'])} | "
          f"{fmt(r['0.95b'])} | {fmt(r['0.99b'])} | {fmt(r['build'], '{:.2f}')} | {fmt(r['bytes'])} |")
ours = rows.get("vectorsearch")
if ours:
    print()
    print("| ours / peer | q/s @0.90 | q/s @0.95 | batch @0.90 | batch @0.95 | build time (peer / ours) | bytes/vector (peer / ours) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for system, r in rows.items():
        if system == "vectorsearch":
            continue
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        print(f"| {system} | {ratio(ours['0.90'], r['0.90'])} | {ratio(ours['0.95'], r['0.95'])} | "
              f"{ratio(ours['0.90b'], r['0.90b'])} | {ratio(ours['0.95b'], r['0.95b'])} | "
              f"{ratio(r['build'], ours['build'])} | {ratio(r['bytes'], ours['bytes'])} |")

# Per-repeat ratios (runs are interleaved, so repeat r of each system ran side by side).
def at(path, target, key):
    try:
        return json.load(open(path)).get("qps_at_recall", {}).get(target, {}).get(key)
    except FileNotFoundError:
        return None

if ours:
    print()
    print("| ours / peer, per repeat (q/s @0.90, @0.95 on 1 thread; batched @0.90, @0.95) | " + " | ".join(
        f"repeat {i}" for i in range(1, ours["runs"] + 1)) + " |")
    print("| --- |" + " ---: |" * ours["runs"])
    for system in rows:
        if system == "vectorsearch":
            continue
        cells = []
        for i in range(1, ours["runs"] + 1):
            keys = [(t, k) for k in ("qps", "batch_qps") for t in ("0.90", "0.95")]
            mine = [at(os.path.join(directory, f"vectorsearch-{i}.json"), t, k) for t, k in keys]
            theirs = [at(os.path.join(directory, f"{system}-{i}.json"), t, k) for t, k in keys]
            cells.append(", ".join(f"{a / b:.2f}" if a and b else "-" for a, b in zip(mine, theirs)))
        print(f"| {system} | " + " | ".join(cells) + " |")
