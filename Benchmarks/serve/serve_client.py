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


def chroma_bodies(queries, out):
    """Chroma's query request for each query: the 10 nearest with their text, metadata and distance."""
    with open(out, "w") as f:
        for v in read_fvecs(queries):
            f.write(json.dumps({"query_embeddings": [[float("%.8g" % x) for x in v]], "n_results": 10,
                                "include": ["documents", "metadatas", "distances"]}) + "\n")


def writer(kind, url, vectors_path, seconds, rate, out):
    """Upserts `rate` documents a second for `seconds` (existing ids, their own vectors, a new
    text), one request each; writes how many were acknowledged, failed, and their latencies."""
    import time
    vectors = read_fvecs(vectors_path)
    done = failed = 0
    latencies = []
    start = time.monotonic()
    row = 0
    while time.monotonic() - start < float(seconds):
        due = start + done / float(rate) if rate else start
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        v = [float("%.8g" % x) for x in vectors[row % len(vectors)]]
        text = "updated document %d at %.3f" % (row, time.time())
        if kind == "ours":
            body = {"documents": [{"id": str(row), "text": text, "year": 2026, "embedding": v}]}
            request = urllib.request.Request(url + "/v1/documents", data=json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
        else:
            body = {"ids": [str(row)], "documents": [text], "metadatas": [{"year": 2026}], "embeddings": [v]}
            request = urllib.request.Request(url + "/upsert", data=json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
        t = time.monotonic()
        try:
            urllib.request.urlopen(request).read()
            done += 1
            latencies.append(time.monotonic() - t)
        except Exception as error:  # counted, and the run goes on
            failed += 1
            print("writer:", error, file=sys.stderr)
        row += 1
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1e3 if latencies else 0
    with open(out, "w") as f:
        f.write("WRITER acknowledged=%d failed=%d per_second=%.1f p50_ms=%.1f\n" % (done, failed, done / float(seconds), p50))


def tile(queries, times, out):
    raw = open(queries, "rb").read()
    with open(out, "wb") as f:
        for _ in range(times):
            f.write(raw)


def recall_documents(kind, url, bodies_path, groundtruth):
    """recall@10 of a collection server's answers, whose documents are named by their row."""
    truth = read_ivecs(groundtruth)
    hits = total = 0
    for row, line in enumerate(open(bodies_path)):
        request = urllib.request.Request(url, data=line.encode(), method="POST", headers={"Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request))
        ids = [int(r["document"]) for r in answer["results"]] if kind == "ours" else [int(i) for i in answer["ids"][0]]
        hits += len(set(ids) & set(truth[row][:10]))
        total += 1
    print("RECALL %s recall@10=%.4f" % (kind, hits / (10 * total)))


def sweep(url, queries, groundtruth, settings, count):
    """For each JSON settings object in `settings` (a JSON list), the first `count` queries one at
    a time: recall@10, how many answers equal the ground truth's top 10 exactly, partial answers,
    and queries/s."""
    import time
    rows = read_fvecs(queries)[:int(count)]
    truth = read_ivecs(groundtruth)
    for setting in json.loads(settings):
        hits = exact = partial = 0
        started = time.monotonic()
        for row, v in enumerate(rows):
            body = json.dumps({"vector": v, "k": 10, **setting}).encode()
            request = urllib.request.Request(url + "/v1/search", data=body, method="POST", headers={"Content-Type": "application/json"})
            answer = json.load(urllib.request.urlopen(request, timeout=60))
            ids = [r["id"] for r in answer["results"]]
            hits += len(set(ids) & set(truth[row][:10]))
            exact += ids == truth[row][:10]
            partial += bool(answer.get("partial"))
        seconds = time.monotonic() - started
        print("SWEEP %s recall@10=%.4f exact=%d/%d partial=%d q/s=%.1f" % (
            json.dumps(setting), hits / (10 * len(rows)), exact, len(rows), partial, len(rows) / seconds), flush=True)


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
    elif command == "chroma-bodies":
        chroma_bodies(*args)
    elif command == "writer":
        writer(args[0], args[1], args[2], float(args[3]), float(args[4]), args[5])
    elif command == "recall-documents":
        recall_documents(*args)
    elif command == "sweep":
        sweep(*args)
