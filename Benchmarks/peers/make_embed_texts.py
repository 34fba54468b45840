#!/usr/bin/env python3
"""Writes the embedding benchmark's two text sets from a meta.jsonl with a "text" key.

Usage: make_embed_texts.py META.jsonl OUTDIR

  OUTDIR/short5k.jsonl  the first 5,000 texts as they are (about 23 tokens each)
  OUTDIR/long500.jsonl  500 texts, each 8 consecutive texts joined by a space (about 200 tokens)
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    meta, outdir = sys.argv[1:]
    texts = []
    with open(meta, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if len(texts) == 5000:
                break
    if len(texts) < 5000:
        sys.exit(f"{meta} has {len(texts)} texts; need 5,000")
    os.makedirs(outdir, exist_ok=True)
    sets = {"short5k": texts, "long500": [" ".join(texts[i:i + 8]) for i in range(0, 4000, 8)]}
    for name, rows in sets.items():
        with open(os.path.join(outdir, name + ".jsonl"), "w", encoding="utf-8") as f:
            for i, text in enumerate(rows):
                f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} texts to {outdir}/{name}.jsonl")


if __name__ == "__main__":
    main()
