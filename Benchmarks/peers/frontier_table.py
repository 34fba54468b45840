"""Table of runs whose settings differ per system (Benchmarks/ivf-pq-vs-peers.sh): a system's runs are
the files <system>[-r<k_factor>]-<round>.json; for each round, the system's queries/s at a recall target
is the best single-query q/s (one thread) among all its points reaching that recall@10 (no interpolation,
the same rule for every system), then the median over rounds. Resident bytes per vector: the index's
resident-set growth (ours: its own memory and the pages of mapped files it touched) per base vector.
usage: frontier_table.py RESULTS_DIR"""
import glob, json, os, re, statistics, sys

runs = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    match = re.match(r"(.+?)(?:-r\d+)?-(\d+)\.json$", os.path.basename(path))
    system, round_ = match.group(1), match.group(2)
    runs.setdefault(system, {}).setdefault(round_, []).append(json.load(open(path)))

targets = ["0.90", "0.95", "0.99"]


def best(reports, target):
    qps = [p["qps"] for r in reports for p in r["points"] if p["recall"] >= float(target)]
    return max(qps) if qps else None


def resident(report):
    if report.get("mapped"):
        return sum(part["resident"] for part in report["memory_parts"])
    return report["index_rss_bytes"]


rows = {}
for system, rounds in runs.items():
    values = {t: [best(reports, t) for reports in rounds.values()] for t in targets}
    rows[system] = {
        **{t: statistics.median([v for v in values[t] if v]) if any(values[t]) else None for t in targets},
        "rounds": len(rounds),
        "bytes": statistics.median(resident(r) / r["n_base"] for reports in rounds.values() for r in reports),
        "recall": max(p["recall"] for reports in rounds.values() for r in reports for p in r["points"]),
    }
peers = [s for s in rows if not s.startswith("ours")]
print("| system | rounds | q/s at 0.90 | q/s at 0.95 | q/s at 0.99 | ours ÷ best peer at 0.90 / 0.95 | best recall | resident bytes/vector |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for system in sorted(rows, key=lambda s: (not s.startswith("ours"), s)):
    r = rows[system]

    def cell(v):
        return f"{v:,.0f}" if v is not None else "not reached"

    def ratio(t):
        best_peer = max((rows[p][t] for p in peers if rows[p][t]), default=None)
        return f"{r[t] / best_peer:.2f}" if system.startswith("ours") and r[t] and best_peer else "-"

    print(f"| {system} | {r['rounds']} | {cell(r['0.90'])} | {cell(r['0.95'])} | {cell(r['0.99'])} | "
          f"{ratio('0.90')} / {ratio('0.95')} | {r['recall']:.4f} | {cell(r['bytes'])} |")
