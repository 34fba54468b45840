// swift-tools-version: 6.0
import PackageDescription

// Platforms: Linux on x86-64 (AVX-512 and AVX2 kernels chosen at run time, a portable Swift SIMD
// path otherwise) and on arm64 (NEON through the portable kernels; builds, not yet tested on
// hardware). macOS and Windows are not supported: the package relies on glibc and the system BLAS.

let package = Package(
    name: "VectorSearch",
    products: [
        .library(name: "VectorSearch", targets: ["VectorSearch"]),
        .library(name: "VectorSearchRAG", targets: ["VectorSearchRAG"]),
        .library(name: "VectorSearchEmbeddings", targets: ["VectorSearchEmbeddings"]),
        .executable(name: "vectorsearch", targets: ["VectorSearchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server only (VectorSearchServer): library products never build these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // BLAS through the system's libblas.so.3; on Debian, installing libopenblas-dev makes that OpenBLAS.
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libblas-dev", "liblapack-dev", "libopenblas-dev"])]
        ),
        // LAPACK (SVD, linear solves) through LAPACKE: liblapacke-dev over liblapack.so.3, which is
        // OpenBLAS's LAPACK when libopenblas-dev is installed.
        .systemLibrary(name: "CLAPACK", providers: [.apt(["liblapacke-dev", "liblapack-dev"])]),
        // Distance kernels for AVX2 and AVX-512 chosen at run time (no compiler flags needed), the
        // encoder's packed matrix product, GELU and softmax.
        .target(name: "CVectorKernels"),
        .target(name: "VectorSearch", dependencies: ["CBLAS", "CLAPACK", "CVectorKernels"]),
        // A sentence-embedding model (BERT encoders such as all-MiniLM-L6-v2) run in process on sgemm.
        .target(name: "VectorSearchEmbeddings", dependencies: ["VectorSearch", "CVectorKernels"]),
        // Documents, chunks, retrieval with citations and prompt context, on the public API of
        // VectorSearch; the built-in embedder is its default when no embedding server is named.
        .target(name: "VectorSearchRAG", dependencies: ["VectorSearch", "VectorSearchEmbeddings", "CSQLite"]),
        // SQLite (libsqlite3-dev, with FTS5) holds a collection's documents, chunks, keyword index
        // and change log; a thin module over its C API is all the collection needs.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // ann-benchmarks HDF5 files through libhdf5 (libhdf5-dev), for the CLI only: users who
        // link the library products never need libhdf5.
        .systemLibrary(name: "CHDF5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "VectorSearchHDF5", dependencies: ["VectorSearch", "CHDF5"]),
        // `vectorsearch serve`: the HTTP/JSON API over an index or a collection (Hummingbird 2,
        // Prometheus metrics). Not a product: only the CLI links it.
        .target(
            name: "VectorSearchServer",
            dependencies: [
                "VectorSearch", "VectorSearchRAG", "VectorSearchEmbeddings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "VectorSearchCLI",
            dependencies: [
                "VectorSearch", "VectorSearchRAG", "VectorSearchEmbeddings", "VectorSearchHDF5", "VectorSearchServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What several test targets share: temporary files, and a real HTTP server on 127.0.0.1 with
        // a fake OpenAI API for the endpoint tests (not a product).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "VectorSearchTests", dependencies: ["VectorSearch", "CVectorKernels", "TestSupport"]),
        .testTarget(name: "VectorSearchRAGTests", dependencies: ["VectorSearch", "VectorSearchRAG", "TestSupport"]),
        .testTarget(
            name: "VectorSearchCLITests",
            dependencies: ["VectorSearchCLI", "VectorSearchRAG", "VectorSearchEmbeddings", "VectorSearchHDF5", "TestSupport"],
            exclude: ["Resources"]),
        .testTarget(name: "VectorSearchServerTests", dependencies: ["VectorSearchServer", "VectorSearch", "VectorSearchRAG", "TestSupport"]),
        .testTarget(name: "VectorSearchHDF5Tests", dependencies: ["VectorSearchHDF5", "VectorSearch", "TestSupport"]),
        .testTarget(
            name: "VectorSearchEmbeddingsTests", dependencies: ["VectorSearchEmbeddings", "VectorSearch", "CVectorKernels", "TestSupport"],
            exclude: ["Resources"]),
    ]
)
