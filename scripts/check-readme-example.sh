#!/usr/bin/env bash
# Builds and runs the README's library examples as a user would: a new package that depends on
# VectorSearch (here by path, standing in for the versioned URL) with the README's programs. The
# program that talks to embedding and chat servers is only built (it needs the servers to run).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/MyApp" "$work/Sources/MyRAG" "$work/Sources/MyServerRAG" "$work/Sources/MyEmbedder"
# The README's swift blocks: 1 the dependency, 2 the engine program, 3 the RAG target, 4 the RAG
# program, 5 the RAG program with servers, 6 the built-in embedder's program (needs the model:
# scripts/fetch-model.sh).
block() { awk -v want="$1" '/^```swift$/ { n++; keep = (n == want); next } /^```$/ { keep = 0 } keep' "$repo/README.md"; }
block 2 > "$work/Sources/MyApp/main.swift"
block 4 > "$work/Sources/MyRAG/main.swift"
block 5 > "$work/Sources/MyServerRAG/main.swift"
block 6 > "$work/Sources/MyEmbedder/main.swift"
cat > "$work/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "MyApp",
    dependencies: [.package(name: "VectorSearch", path: "$repo")],
    targets: [
        .executableTarget(name: "MyApp", dependencies: [.product(name: "VectorSearch", package: "VectorSearch")]),
        $(block 3)
        .executableTarget(name: "MyServerRAG", dependencies: [
            .product(name: "VectorSearch", package: "VectorSearch"), .product(name: "VectorSearchRAG", package: "VectorSearch"),
        ]),
        .executableTarget(name: "MyEmbedder", dependencies: [
            .product(name: "VectorSearch", package: "VectorSearch"), .product(name: "VectorSearchEmbeddings", package: "VectorSearch"),
        ]),
    ]
)
SWIFT
output=$(swift run --package-path "$work" --scratch-path "$repo/.build-readme" MyApp 2>/dev/null)
echo "$output"
grep -q "^id 10 " <<<"$output"
grep -q "refused: row 0 has a non-finite value" <<<"$output"
grep -q "after removing 10: \[11:" <<<"$output"
grep -q "^hnsw: \[10, 11\]" <<<"$output"
grep -q "^int8: \[10, 11\]" <<<"$output"
grep -q "^ivf: \[10, 11\]" <<<"$output"
grep -q "^filtered: \[20\]" <<<"$output"
grep -q "^json filter: \[10, 30\]" <<<"$output"
echo "README example: OK"

output=$(swift run --package-path "$work" --scratch-path "$repo/.build-readme" MyRAG 2>/dev/null)
echo "$output"
grep -q "^swift \[0..<46\] cosine 0.99" <<<"$output"
grep -q "^rust \[" <<<"$output"
grep -q "^\[1\] (swift, characters 0–46) Swift is a fast" <<<"$output"
grep -q '^sources: \["\[1\] swift", "\[2\] rust"\]' <<<"$output"
grep -q '^documents: \["bread", "swift"\]' <<<"$output"
echo "README RAG example: OK"

swift build --package-path "$work" --scratch-path "$repo/.build-readme" --product MyServerRAG 2>&1 | tail -n 3
echo "README server example: builds"

bash "$repo/scripts/fetch-model.sh"
output=$(swift run --package-path "$work" --scratch-path "$repo/.build-readme" MyEmbedder 2>/dev/null)
echo "$output"
sed -n 1p <<<"$output" | grep -q "Swift is a programming language"
sed -n 2p <<<"$output" | grep -q "Rust is a systems"
grep -q '^tokens: \[101, 7592, 1010, 2088, 999, 102\]' <<<"$output"
echo "README embedder example: OK"
