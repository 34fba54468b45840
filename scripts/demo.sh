#!/usr/bin/env bash
# The main job on the bundled sample: build an exact index from an embedding file, search it,
# and benchmark it against the exact ground truth; then the same with metadata filters; then the
# sample as a RAG knowledge base, queried with a filter and by a question typed as text.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product vectorsearch
bin=.build/release/vectorsearch
data=data/pypi-minilm-2k
$bin info
$bin build --input $data/base.fvecs --index flat --metric cosine --output .build/demo-flat.vsidx
echo "--- top 3 for the first two queries (query row, then id:cosine) ---"
$bin search --index .build/demo-flat.vsidx --queries $data/query.fvecs --k 3 > .build/demo-search.txt
head -n 2 .build/demo-search.txt
echo "--- benchmark: exact search ---"
$bin bench --base $data/base.fvecs --queries $data/query.fvecs --groundtruth $data/groundtruth.ivecs \
  --index flat --metric cosine --k 10 --json .build/demo-bench.json
echo "--- benchmark: IVF, nlist about 4·√N (179), a sweep of nprobe ---"
$bin bench --base $data/base.fvecs --queries $data/query.fvecs --groundtruth $data/groundtruth.ivecs \
  --index ivf --metric cosine --k 10 --sweep-nprobe 1,2,4,8,16,32,64 --json .build/demo-bench-ivf.json
echo "--- benchmark: HNSW, M 16, efConstruction 200, a sweep of ef ---"
$bin bench --base $data/base.fvecs --queries $data/query.fvecs --groundtruth $data/groundtruth.ivecs \
  --index hnsw --metric cosine --k 10 --sweep-ef 10,16,32,64,128 --json .build/demo-bench-hnsw.json
echo "--- HNSW with metadata: the same queries among packages last released in 2015 or earlier ---"
$bin build --input $data/base.fvecs --metadata $data/meta.jsonl --index hnsw --metric cosine --output .build/demo-hnsw.vsidx
$bin search --index .build/demo-hnsw.vsidx --queries $data/query.fvecs --k 3 --filter '{"year": {"$lte": 2015}}' \
  > .build/demo-search-filtered.txt
head -n 2 .build/demo-search-filtered.txt
echo "--- benchmark: filtered HNSW, popular packages (2 %) and a 10 % random label ---"
$bin bench --base $data/base.fvecs --queries $data/query.fvecs --metadata $data/meta.jsonl --index hnsw --metric cosine \
  --k 10 --filter '{"popular": true}' --filter-selectivity 0.1 --sweep-ef 16,32,64 --json .build/demo-bench-filtered.json
echo "--- RAG: the sample as a knowledge base; query 0 among packages released since 2020, with citations ---"
rm -rf .build/demo-kb
$bin rag ingest --documents $data/meta.jsonl --embeddings $data/base.fvecs --collection .build/demo-kb --index hnsw
$bin rag info --collection .build/demo-kb
$bin rag query --collection .build/demo-kb --vector $data/query.fvecs:0 --text "A package for maf files io" \
  --filter '{"year": {"$gte": 2020}}' --k 3 --hybrid
echo "--- RAG: a question typed as text, embedded in process by the built-in all-MiniLM-L6-v2 ---"
bash scripts/fetch-model.sh
$bin rag query --collection .build/demo-kb --text "read and write YAML configuration files" --k 3
echo "--- RAG evaluation: 60 labelled man-page questions (data/manpages-qa-slice), exact, HNSW and hybrid side by side ---"
rm -rf .build/demo-qa
$bin rag ingest --beir data/manpages-qa-slice --collection .build/demo-qa --index hnsw
$bin rag eval --collection .build/demo-qa --queries data/manpages-qa-slice/queries.jsonl \
  --qrels data/manpages-qa-slice/qrels/test.tsv --config name=exact,index=exact --config name=hnsw,ef=64 \
  --config name=hybrid,index=exact,hybrid --json .build/demo-eval.json --run .build/demo-eval.run
