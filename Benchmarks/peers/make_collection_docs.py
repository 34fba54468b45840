"""Documents for a generated collection, one per row of a generated embedding file, for
collections-vs-peers.sh at sizes the real data does not reach (1,000,000 chunks): each a text of
12 words drawn from a fixed 5,000-word vocabulary (so full-text search has frequent and rare
terms), a `lang` of four values and a `year`. Seeded: the same N gives the same file.

usage: python3 make_collection_docs.py N OUT.jsonl
"""
import json
import random
import sys


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    count, path = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(5200)})[:5000]
    # Zipf-like word frequencies, as in real text.
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    langs = ["en", "de", "fr", "es"]
    with open(path, "w") as out:
        for i in range(count):
            words = rng.choices(vocabulary, weights=weights, k=12)
            doc = {"id": i, "text": " ".join(words), "lang": langs[i % 4], "year": 2000 + rng.randrange(27)}
            out.write(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main()
