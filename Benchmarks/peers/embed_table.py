#!/usr/bin/env python3
"""Summarises embed-vs-peers.sh results: per text set, threads and batch, the median texts/s of
each system over repeats with ours / peer ratios (and the per-repeat ratios, repeat r of ours
against repeat r of the peer, run back to back); model load time and peak memory (medians); and the
agreement of the vectors (cosine of matching rows, largest per-component difference).
usage: embed_table.py RESULTS_DIR"""
import glob, json, os, re, statistics, sys

import numpy as np

directory = sys.argv[1]
systems = ["vectorsearch", "onnxruntime", "sentence-transformers"]
runs = {}  # (system, set, threads, batch) -> {repeat: report}
for path in glob.glob(os.path.join(directory, "*.json")):
    m = re.fullmatch(r"(.+)-(short5k|long500)-t(\d+)-b(\d+)-(\d+)\.json", os.path.basename(path))
    if m and m.group(1) in systems:
        key = (m.group(1), m.group(2), int(m.group(3)), int(m.group(4)))
        runs.setdefault(key, {})[int(m.group(5))] = json.load(open(path))
configs = sorted({k[1:] for k in runs}, key=lambda c: (c[0] != "short5k", c[1], c[2]))

def med(system, config, field):
    reports = runs.get((system,) + config, {})
    return statistics.median(r[field] for r in reports.values()) if reports else None

def ratios(config, peer):
    ours, theirs = runs.get(("vectorsearch",) + config, {}), runs.get((peer,) + config, {})
    return [ours[r]["texts_per_s"] / theirs[r]["texts_per_s"] for r in sorted(ours) if r in theirs]

print("| texts | threads | batch | tokens/text | ours texts/s | ONNX Runtime | sentence-transformers | ours / ORT (per repeat) | ours / ST (per repeat) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for config in configs:
    sample = next(iter(runs[("vectorsearch",) + config].values()))
    cells = [f"{med(s, config, 'texts_per_s'):.1f}" if med(s, config, "texts_per_s") else "-" for s in systems]
    cols = []
    for peer in systems[1:]:
        rs = ratios(config, peer)
        cols.append(f"**{statistics.median(rs):.2f}x** ({', '.join(f'{x:.2f}' for x in rs)})" if rs else "-")
    print(f"| {config[0]} | {config[1]} | {config[2]} | {sample['tokens'] / sample['texts']:.0f} | " + " | ".join(cells + cols) + " |")

print()
print("| texts | threads | batch | load s: ours | ORT | ST | peak RSS MiB: ours | ORT | ST |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for config in configs:
    loads = [med(s, config, "load_s") for s in systems]
    peaks = [med(s, config, "peak_rss_mib") for s in systems]
    print(f"| {config[0]} | {config[1]} | {config[2]} | " + " | ".join(f"{v:.3f}" if v is not None else "-" for v in loads)
          + " | " + " | ".join(f"{v:.0f}" if v is not None else "-" for v in peaks) + " |")

def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    return raw.reshape(-1, d + 1)[:, 1:].view(np.float32)

print()
print("| texts | pair | lowest cosine | max abs component difference |")
print("| --- | --- | ---: | ---: |")
for text_set in ["short5k", "long500"]:
    vectors = {s: read_fvecs(p) for s in systems if os.path.exists(p := os.path.join(directory, f"{s}-{text_set}.fvecs"))}
    for a, b in [("vectorsearch", "onnxruntime"), ("vectorsearch", "sentence-transformers"), ("onnxruntime", "sentence-transformers")]:
        if a in vectors and b in vectors:
            x, y = vectors[a], vectors[b]
            cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
            print(f"| {text_set} | {a} vs {b} | {cos.min():.8f} | {np.abs(x - y).max():.2e} |")
