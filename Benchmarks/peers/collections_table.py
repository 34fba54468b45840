#!/usr/bin/env python3
"""Summarises collections-vs-peers.sh results: one markdown table, a row per measure and a column
per engine, each cell the median over rounds of <engine>-<round>.json. A cell is "-" where an
engine does not report that measure (ours measures hybrid queries only; local Chroma has no hybrid
query; only the peers have a cold-process measure).
usage: collections_table.py RESULTS_DIR"""
import glob, json, os, re, statistics, sys

directory = sys.argv[1]
engines = ["ours", "chroma", "lancedb"]
runs = {}  # engine -> [report, ...]
for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
    m = re.fullmatch(r"(ours|chroma|lancedb)-(\d+)\.json", os.path.basename(path))
    if m:
        with open(path) as f:
            report = json.load(f)
        # collbench splits its files into the database and the checkpoint; the peers give one total.
        if "disk_bytes" not in report and "database_bytes" in report:
            report["disk_bytes"] = report["database_bytes"] + report.get("checkpoint_bytes", 0)
        runs.setdefault(m.group(1), []).append(report)
engines = [e for e in engines if e in runs]
if not engines:
    sys.exit(f"no <engine>-<round>.json in {directory}")

rows = [
    ("documents", "documents"),
    ("ingest, documents/s (adds + index builds)", "ingest_docs_per_second"),
    ("ingest, s", "ingest_seconds"),
    ("  of which index builds, s", "index_build_seconds"),
    ("  of which the index checkpoint (ours), s", "checkpoint_seconds"),
    ("rows alone (durable, searched exactly until a checkpoint), documents/s", "rows_docs_per_second"),
    ("open, s", "open_seconds"),
    ("first vector query, s", "first_query_seconds"),
    ("first hybrid query, s", "first_hybrid_query_seconds"),
    ("new process: open + first query, wall s", "cold_open_first_query_seconds"),
    ("  of which after imports, s", "cold_open_first_query_after_import_seconds"),
    ("vector query p50, ms", "query_p50_ms"),
    ("vector query p99, ms", "query_p99_ms"),
    ("hybrid query p50, ms", "hybrid_query_p50_ms"),
    ("hybrid query p99, ms", "hybrid_query_p99_ms"),
    ("updates", "updates"),
    ("update p50, ms", "update_p50_ms"),
    ("update p99, ms", "update_p99_ms"),
    ("update max, ms", "update_max_ms"),
    ("RSS before updates, MB", "rss_before_updates_mb"),
    ("RSS after updates, MB", "rss_after_updates_mb"),
    ("disk, bytes", "disk_bytes"),
    ("disk, bytes/document", "disk_bytes_per_document"),
    ("own vector ranks first (share of 200)", "self_top1_rate"),
    ("own vector + text ranks first (hybrid)", "hybrid_self_top1_rate"),
]


def median(engine, key):
    values = [r[key] for r in runs[engine] if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]
    return statistics.median(values) if values else None


def cell(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def label(engine):
    first = runs[engine][0]
    name = f"{engine} {first['version']}" if "version" in first else engine
    if engine == "ours" and "index" in first:
        name += f" ({first['index']})"
    return f"{name}, {len(runs[engine])} round{'s' if len(runs[engine]) != 1 else ''}"


print("| measure (median over rounds) | " + " | ".join(label(e) for e in engines) + " |")
print("| --- | " + " | ".join("---:" for _ in engines) + " |")
for name, key in rows:
    values = [median(e, key) for e in engines]
    if any(v is not None for v in values):
        print(f"| {name} | " + " | ".join(cell(v) for v in values) + " |")
if "lancedb" in runs and "indices" in runs["lancedb"][0]:
    indices = ", ".join(f"{k}: {v}" for k, v in sorted(runs["lancedb"][0]["indices"].items()))
    print(f"\nLanceDB indices: {indices}.")
