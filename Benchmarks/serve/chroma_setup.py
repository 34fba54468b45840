"""Benchmarks/serve-vs-chroma.sh: loads documents and their vectors into a running Chroma server
(`chroma run`) with HNSW settings matched to ours, and prints the collection's id."""
import json
import sys

import chromadb

from serve_client import read_fvecs


def main(port, docs_path, vectors_path, m, ef_construction, ef_search):
    client = chromadb.HttpClient(host="127.0.0.1", port=int(port))
    try:
        client.delete_collection("bench")
    except Exception:
        pass
    collection = client.create_collection(
        "bench",
        configuration={"hnsw": {"space": "cosine", "max_neighbors": int(m), "ef_construction": int(ef_construction),
                                "ef_search": int(ef_search)}})
    vectors = read_fvecs(vectors_path)
    ids, texts, metadatas = [], [], []
    for line in open(docs_path):
        doc = json.loads(line)
        ids.append(str(doc.pop("id")))
        texts.append(doc.pop("text"))
        metadatas.append({k: v for k, v in doc.items() if isinstance(v, (str, int, float, bool))})
    batch = 1000
    for start in range(0, len(ids), batch):
        end = start + batch
        collection.add(ids=ids[start:end], documents=texts[start:end], metadatas=metadatas[start:end],
                       embeddings=vectors[start:end])
    print(collection.id)


if __name__ == "__main__":
    main(*sys.argv[1:])
