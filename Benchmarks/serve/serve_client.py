"""Helpers for Benchmarks/serve-load.sh: request bodies from an fvecs file, a tiled query file,
and recall@10 of answers over HTTP against the ground truth and against in-process results."""
import json
import struct
import sys
import urllib.request


def read_fvecs(path):
    data = open(path, "rb").read()
    d = struct.unpack_from("<i", data, 0)[0]
    step = 4 + 4 * d
    return [list(struct.unpack_from("<%df" % d, data, i + 4)) for i in range(0, len(data), step)]


def read_ivecs(path):
    data = open(path, "rb").read()
    d = struct.unpack_from("<i", data, 0)[0]
    step = 4 + 4 * d
    return [list(struct.unpack_from("<%di" % d, data, i + 4)) for i in range(0, len(data), step)]


def bodies(queries, ef, out):
    with open(out, "w") as f:
        for v in read_fvecs(queries):
            f.write(json.dumps({"vector": [float("%.8g" % x) for x in v], "k": 10, "ef": ef}) + "\n")


def tile(queries, times, out):
    raw = open(queries, "rb").read()
    with open(out, "wb") as f:
        for _ in range(times):
            f.write(raw)


def recall(url, bodies_path, groundtruth, in_process):
    truth = read_ivecs(groundtruth)
    local = read_ivecs(in_process)
    hits = same = total = 0
    for row, line in enumerate(open(bodies_path)):
        request = urllib.request.Request(url + "/v1/search", data=line.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        ids = [r["id"] for r in json.load(urllib.request.urlopen(request))["results"]]
        hits += len(set(ids) & set(truth[row][:10]))
        same += ids == local[row][:10]
        total += 1
    print("RECALL recall@10=%.4f identical_to_in_process=%d/%d" % (hits / (10 * total), same, total))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "bodies":
        bodies(args[0], int(args[1]), args[2])
    elif command == "tile":
        tile(args[0], int(args[1]), args[2])
    elif command == "recall":
        recall(*args)
