// swift-tools-version: 6.0
// Fuzzing with libFuzzer, in its own package so library users never see it. Build and run with
// scripts/fuzz.sh (debug, -sanitize=fuzzer,address); one executable holds every target, chosen by
// the VSFUZZ_TARGET environment variable.
import PackageDescription

let package = Package(
    name: "VectorSearchFuzz",
    dependencies: [.package(name: "VectorSearch", path: "..")],
    targets: [
        // libFuzzer's driver, called from the entry point SwiftPM links the executable with.
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "vsfuzz",
            dependencies: [
                "CFuzzDriver",
                .product(name: "VectorSearch", package: "VectorSearch"),
                .product(name: "VectorSearchRAG", package: "VectorSearch"),
                .product(name: "VectorSearchEmbeddings", package: "VectorSearch"),
            ]
        ),
    ]
)
