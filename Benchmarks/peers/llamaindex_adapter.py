#!/usr/bin/env python3
"""Trains LlamaIndex's linear query adapter (EmbeddingAdapterFinetuneEngine) on the same pairs
`vectorsearch rag tune` fits on, and writes its matrix for `rag tune --import`.

    python llamaindex_adapter.py COLLECTION BEIR_DIR MODEL_DIR OUT_PREFIX [--epochs 1 4 10]

The pairs: each query of BEIR_DIR/qrels/train.tsv with the chunk of its relevant document (read
from COLLECTION/collection.sqlite) closest to the query by the model's embeddings, as rag tune
takes them (LlamaIndex trains on the first relevant chunk of each query). The model is the same
all-MiniLM-L6-v2 (MODEL_DIR, loaded by sentence-transformers through llama-index's
HuggingFaceEmbedding). For each --epochs value, writes OUT_PREFIX-e{epochs}.npy holding W with the
adapted query = query · W (LlamaIndex's LinearLayer computes W_torch · query, so W = W_torchᵀ), and
prints the training time. --lr tries learning rates besides LlamaIndex's default.
"""
import argparse
import csv
import json
import os
import sqlite3
import sys
import tempfile
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("collection")
    parser.add_argument("beir")
    parser.add_argument("model")
    parser.add_argument("out_prefix")
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 4, 10])
    parser.add_argument("--lr", type=float, nargs="+", default=[2e-5], help="AdamW learning rates (LlamaIndex's default: 2e-5)")
    args = parser.parse_args()

    import torch
    from llama_index.finetuning.embeddings.common import EmbeddingQAFinetuneDataset
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.finetuning import EmbeddingAdapterFinetuneEngine

    torch.manual_seed(0)
    queries = {}
    with open(os.path.join(args.beir, "queries.jsonl"), encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    train = {}
    with open(os.path.join(args.beir, "qrels", "train.tsv"), encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) >= 1:
                train.setdefault(row["query-id"], []).append(row["corpus-id"])

    db = sqlite3.connect(os.path.join(args.collection, "collection.sqlite"))
    chunks = {}  # document -> [(chunk id, text, vector)]
    for cid, doc, text, blob in db.execute("SELECT id, document, text, vector FROM chunks ORDER BY id"):
        v = np.frombuffer(blob, dtype=np.float32)
        chunks.setdefault(doc, []).append((str(cid), text, v / np.linalg.norm(v)))

    embed = HuggingFaceEmbedding(model_name=args.model, device="cpu")
    qids = sorted(train)
    qvecs = np.array(embed.get_text_embedding_batch([queries[q] for q in qids]), dtype=np.float32)
    qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
    corpus, relevant = {}, {}
    for qid, qv in zip(qids, qvecs):
        relevant[qid] = []
        for doc in sorted(train[qid]):
            best = max(chunks.get(doc, []), key=lambda c: float(c[2] @ qv), default=None)
            if best is not None:
                corpus[best[0]] = best[1]
                relevant[qid].append(best[0])
    dataset = EmbeddingQAFinetuneDataset(
        queries={q: queries[q] for q in qids if relevant[q]}, corpus=corpus, relevant_docs={q: r for q, r in relevant.items() if r})
    print(f"{len(dataset.queries)} training queries, {len(corpus)} chunks", flush=True)

    for lr in args.lr:
        for epochs in args.epochs:
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                engine = EmbeddingAdapterFinetuneEngine(
                    dataset, embed, epochs=epochs, model_output_path=out, verbose=False, optimizer_params={"lr": lr})
                engine.finetune()
                seconds = time.perf_counter() - start
                weight = engine.model.linear.weight.detach().cpu().numpy().astype(np.float32)
            path = f"{args.out_prefix}-e{epochs}" + ("" if lr == 2e-5 else f"-lr{lr:g}") + ".npy"
            np.save(path, np.ascontiguousarray(weight.T))
            print(f"epochs {epochs}, lr {lr:g}: trained in {seconds:.1f} s (embedding included), wrote {path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
