#!/usr/bin/env bash
# Builds and runs the README's library example as a user would: a new package that depends on
# VectorSearch (here by path, standing in for the versioned URL) with the README's main.swift.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/MyApp"
# The second swift block of the README is the program.
awk '/^```swift$/ { n++; keep = (n == 2); next } /^```$/ { keep = 0 } keep' "$repo/README.md" > "$work/Sources/MyApp/main.swift"
cat > "$work/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "MyApp",
    dependencies: [.package(name: "VectorSearch", path: "$repo")],
    targets: [.executableTarget(name: "MyApp", dependencies: [.product(name: "VectorSearch", package: "VectorSearch")])]
)
SWIFT
output=$(swift run --package-path "$work" --scratch-path "$repo/.build-readme" MyApp 2>/dev/null)
echo "$output"
grep -q "^id 10 " <<<"$output"
grep -q "refused: row 0 has a non-finite value" <<<"$output"
grep -q "after removing 10: \[11:" <<<"$output"
grep -q "^hnsw: \[10, 11\]" <<<"$output"
grep -q "^ivf: \[10, 11\]" <<<"$output"
grep -q "^filtered: \[20\]" <<<"$output"
grep -q "^json filter: \[10, 30\]" <<<"$output"
echo "README example: OK"
