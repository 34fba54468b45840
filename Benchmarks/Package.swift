// swift-tools-version: 6.0
// Benchmarks live in their own package so users of the library never resolve their dependencies.
import PackageDescription

let package = Package(
    name: "VectorSearchBenchmarks",
    dependencies: [.package(name: "VectorSearch", path: "..")],
    targets: [
        // A plain streaming read (the memory-bandwidth bound of a single-query scan).
        .target(name: "CBandwidth"),
        .executableTarget(
            name: "vsbench",
            dependencies: ["CBandwidth", .product(name: "VectorSearch", package: "VectorSearch")]
        ),
        // Collections: ingest, one-document updates, checkpoint, open and first query (issue 21).
        .executableTarget(
            name: "collbench",
            dependencies: [
                .product(name: "VectorSearch", package: "VectorSearch"), .product(name: "VectorSearchRAG", package: "VectorSearch"),
            ]
        ),
        // The malloc family, counting each call: linked into alloccheck only, never into a library.
        .target(name: "CAllocationCounter"),
        // Checks that single-query searches allocate nothing (scripts/check-allocations.sh, in CI).
        .executableTarget(
            name: "alloccheck",
            dependencies: ["CAllocationCounter", .product(name: "VectorSearch", package: "VectorSearch")]
        ),
    ]
)
