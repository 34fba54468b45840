// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "VectorSearch",
    products: [
        .library(name: "VectorSearch", targets: ["VectorSearch"]),
        .library(name: "VectorSearchRAG", targets: ["VectorSearchRAG"]),
        .executable(name: "vectorsearch", targets: ["VectorSearchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // BLAS through the system's libblas.so.3; on Debian, installing libopenblas-dev makes that OpenBLAS.
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libblas-dev", "liblapack-dev", "libopenblas-dev"])]
        ),
        // Distance kernels for AVX2 and AVX-512, chosen at run time (no compiler flags needed).
        .target(name: "CVectorKernels"),
        .target(name: "VectorSearch", dependencies: ["CBLAS", "CVectorKernels"]),
        // Documents, chunks, retrieval with citations and prompt context, on the public API of VectorSearch.
        .target(name: "VectorSearchRAG", dependencies: ["VectorSearch"]),
        .executableTarget(
            name: "VectorSearchCLI",
            dependencies: [
                "VectorSearch", "VectorSearchRAG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "VectorSearchTests", dependencies: ["VectorSearch", "CVectorKernels"]),
        // A real HTTP server on 127.0.0.1 for the endpoint tests (not a product).
        .target(name: "TestHTTPServer", path: "Tests/TestHTTPServer"),
        .testTarget(name: "VectorSearchRAGTests", dependencies: ["VectorSearch", "VectorSearchRAG", "TestHTTPServer"]),
        .testTarget(name: "VectorSearchCLITests", dependencies: ["VectorSearchCLI", "VectorSearchRAG", "TestHTTPServer"]),
    ]
)
