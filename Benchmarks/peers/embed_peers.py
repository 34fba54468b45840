#!/usr/bin/env python3
"""Sentence-embedding peers timed the way `vectorsearch embed --json` times ours.

Usage:
  embed_peers.py ort --onnx MODEL.onnx --model-dir DIR --texts T.jsonl --batch B --threads N [--json OUT] [--write-fvecs F]
  embed_peers.py st  --model-dir DIR --texts T.jsonl --batch B --threads N [--json OUT] [--write-fvecs F]

ort: ONNX Runtime on the model exported by export_onnx.py; Hugging Face `tokenizers` from the
     directory's tokenizer.json (truncation at max_seq_length), texts sorted by token count and
     padded per batch (as sentence-transformers does), mean pooling and L2 normalisation in numpy.
st:  sentence-transformers on PyTorch CPU, loading the same directory offline.

Load time is model (and tokenizer) loading after the imports; one warm-up batch runs before the
clock starts; seconds covers tokenising, the forward passes, pooling and normalising every text.
Peak memory is the process's peak resident set (ru_maxrss).
"""
import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def max_seq_length(model_dir):
    with open(os.path.join(model_dir, "sentence_bert_config.json")) as f:
        return json.load(f)["max_seq_length"]


def write_fvecs(path, vectors):
    import numpy as np
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.empty((v.shape[0], v.shape[1] + 1), dtype=np.float32)
    rows[:, 0] = np.array([v.shape[1]], dtype=np.int32).view(np.float32)[0]
    rows[:, 1:] = v
    rows.tofile(path)


class OrtEmbedder:
    def __init__(self, onnx_path, model_dir, threads):
        import onnxruntime as ort
        from tokenizers import Tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_seq_length(model_dir))

    def token_counts(self, texts):
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts)]

    def embed(self, texts, batch):
        import numpy as np
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        out = None
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            width = max(len(ids[i]) for i in chunk)
            input_ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            hidden = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(input_ids)})[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.empty((len(ids), pooled.shape[1]), dtype=np.float32)
            out[chunk] = pooled
        return out


class StEmbedder:
    def __init__(self, model_dir, threads):
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(threads)
        self.model = SentenceTransformer(model_dir, device="cpu")

    def token_counts(self, texts):
        tokenize = getattr(self.model, "preprocess", None) or self.model.tokenize   # renamed in sentence-transformers 6
        return tokenize(texts)["attention_mask"].sum(axis=1).tolist()

    def embed(self, texts, batch):
        import torch
        with torch.inference_mode():
            return self.model.encode(texts, batch_size=batch, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("system", choices=["ort", "st"])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--onnx")
    parser.add_argument("--texts", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("--write-fvecs")
    args = parser.parse_args()
    if args.system == "ort" and not args.onnx:
        sys.exit("ort needs --onnx MODEL.onnx (make it with export_onnx.py)")
    # The tokenizers' own thread pool obeys the same thread budget.
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    if args.threads == 1:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    texts = read_texts(args.texts)

    start = time.perf_counter()
    if args.system == "ort":
        embedder = OrtEmbedder(args.onnx, args.model_dir, args.threads)
    else:
        embedder = StEmbedder(args.model_dir, args.threads)
    load = time.perf_counter() - start

    embedder.embed(texts[:args.batch], args.batch)  # warm-up, not timed
    start = time.perf_counter()
    vectors = embedder.embed(texts, args.batch)
    seconds = time.perf_counter() - start

    tokens = sum(embedder.token_counts(texts))
    name = {"ort": "onnxruntime", "st": "sentence-transformers"}[args.system]
    report = {"system": name, "batch": args.batch, "threads": args.threads, "texts": len(texts),
              "tokens": tokens, "seconds": seconds, "texts_per_s": len(texts) / seconds, "load_s": load,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, sort_keys=True)
    if args.write_fvecs:
        write_fvecs(args.write_fvecs, vectors)
    print(f"{name}: {len(texts)} texts, batch {args.batch}, {args.threads} thread(s): "
          f"{report['texts_per_s']:.1f} texts/s; load {load:.2f}s; peak {report['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
