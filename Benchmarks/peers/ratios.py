"""Per-repeat ratios ours/peer from the JSON reports flat-vs-faiss.sh writes, and their median.
usage: ratios.py RESULTS_DIR METRIC"""
import glob, json, statistics, sys

directory, metric = sys.argv[1], sys.argv[2]
rows = []
for ours_path in sorted(glob.glob(f"{directory}/vectorsearch-{metric}-*.json")):
    repeat = ours_path.rsplit("-", 1)[1]
    ours = json.load(open(ours_path))["points"][0]
    peer = json.load(open(f"{directory}/faiss-{metric}-{repeat}"))["points"][0]
    rows.append((ours["qps"] / peer["qps"], ours["batch_qps"] / peer["batch_qps"], ours, peer))
print("repeat  ours qps  faiss qps  ratio   ours batch  faiss batch  ratio")
for i, (single, batch, ours, peer) in enumerate(rows, 1):
    print(f"{i:6}  {ours['qps']:8.1f}  {peer['qps']:9.1f}  {single:5.2f}   {ours['batch_qps']:10.1f}  {peer['batch_qps']:11.1f}  {batch:5.2f}")
print(f"median ratio: single {statistics.median(r[0] for r in rows):.2f}, batch {statistics.median(r[1] for r in rows):.2f}")
