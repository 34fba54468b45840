"""Table of Benchmarks/quantized-vs-peers.sh: per configuration, the median over rounds of the
single-query queries/s (one thread) at recall@10 0.90, 0.95 and 0.99 (interpolated between sweep points)
and of the resident bytes per vector the index added (a memory-mapped index of ours: its own
memory plus the pages of its file the searches touched, from `memory_parts`); the ratios to FAISS
SQ8 and to ScaNN.
usage: quantized_table.py RESULTS_DIR"""
import glob, json, os, re, statistics, sys

runs = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    config = re.sub(r"-\d+\.json$", "", os.path.basename(path))
    runs.setdefault(config, []).append(json.load(open(path)))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def at(report, target):
    point = (report.get("qps_at_recall") or {}).get(target)
    return point["qps"] if point else None


def resident(report):
    if report.get("mapped"):
        return sum(part["resident"] for part in report["memory_parts"])
    return report["index_rss_bytes"]


rows = {}
for config, reports in runs.items():
    n = reports[0]["n_base"]
    rows[config] = {
        "0.90": median([at(r, "0.90") for r in reports]),
        "0.95": median([at(r, "0.95") for r in reports]),
        "0.99": median([at(r, "0.99") for r in reports]),
        "bytes": median([resident(r) / n for r in reports]),
        "rounds": len(reports),
        "best": max(p["recall"] for r in reports for p in r["points"]),
    }
faiss, scann = rows.get("faiss-int8", {}), rows.get("scann-float32", {})
print("| configuration | rounds | q/s at 0.90 | q/s at 0.95 | q/s at 0.99 | x FAISS SQ8 at 0.90 / 0.95 / 0.99 | x ScaNN at 0.95 / 0.99 | best recall | resident bytes/vector |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for config in sorted(rows, key=lambda c: (not c.startswith("ours"), c)):
    r = rows[config]

    def cell(v, fmt="{:,.0f}"):
        return fmt.format(v) if v is not None else "not reached"

    def ratio(peer, target):
        ours, theirs = r[target], peer.get(target)
        return f"{ours / theirs:.2f}" if ours and theirs else "-"

    print(f"| {config} | {r['rounds']} | {cell(r['0.90'])} | {cell(r['0.95'])} | {cell(r['0.99'])} | "
          f"{ratio(faiss, '0.90')} / {ratio(faiss, '0.95')} / {ratio(faiss, '0.99')} | "
          f"{ratio(scann, '0.95')} / {ratio(scann, '0.99')} | {r['best']:.4f} | {cell(r['bytes'])} |")
