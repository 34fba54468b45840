"""Ratios B/A from the lines Benchmarks/ab-vsbench.sh prints (on stdin): per measurement, the
median over repeats of B's speed over A's, with the range of the per-repeat ratios."""
import re, statistics, sys
from collections import defaultdict

speeds = defaultdict(dict)
for line in sys.stdin:
    repeat, which, what, rest = line.split(" ", 3)
    if m := re.search(r"batch (\d) threads: (\d+) q/s", rest):
        key, speed = f"{what} batch {m.group(1)} thread(s)", float(m.group(2))
    elif m := re.search(r"best (\d+) q/s", rest):
        key, speed = f"{what} single query", float(m.group(1))
    elif m := re.search(r"single-query scan:\s+([\d.]+) ms", rest):
        key, speed = "flat single query", 1 / float(m.group(1))
    elif m := re.search(r"batch search, k=10, (\d) thread\(s\): [\d.]+ ms = (\d+) queries/s", rest):
        key, speed = f"flat batch {m.group(1)} thread(s)", float(m.group(2))
    else:
        continue
    speeds[key].setdefault(repeat, {})[which] = speed
print("| measurement | B/A median | range | repeats |")
print("|---|---|---|---|")
for key in sorted(speeds):
    ratios = [v["B"] / v["A"] for v in speeds[key].values() if "A" in v and "B" in v]
    print(f"| {key} | {statistics.median(ratios):.3f} | {min(ratios):.2f}–{max(ratios):.2f} | {len(ratios)} |")
