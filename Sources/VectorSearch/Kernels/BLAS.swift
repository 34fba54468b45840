import CBLAS
import CVectorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BLAS library the process loaded, and control of its threads.
public enum BLAS {
    /// Path of the shared library that provides `cblas_sgemm`, resolved through symlinks
    /// (on Debian, `libblas.so.3` is an alternatives link to OpenBLAS or the reference BLAS).
    public static let libraryPath: String? = {
        let symbol = unsafeBitCast(cblas_sgemm as SgemmFunction, to: UnsafeRawPointer.self)
        guard let path = vs_library_path_of(symbol) else { return nil }
        defer { free(path) }
        return String(cString: path)
    }()

    /// OpenBLAS's configuration string (version, architecture, threading), or nil for other BLAS.
    public static let openBLASConfig: String? = {
        guard let pointer = symbol("openblas_get_config") else { return nil }
        typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(pointer, to: GetConfig.self)().map { String(cString: $0) }
    }()

    /// A one-line description for `vectorsearch info` and benchmark reports.
    public static var description: String {
        let path = libraryPath ?? "unknown library"
        if let config = openBLASConfig { return "\(config) (\(path))" }
        return path
    }

    /// OpenBLAS's thread count, or nil for a BLAS without that control.
    public static var threads: Int? {
        guard let getter = openBLASGetThreads else { return nil }
        return Int(getter())
    }

    typealias SgemmFunction =
        @convention(c) (
            CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float,
            UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void

    private typealias GetThreads = @convention(c) () -> Int32
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private static let openBLASGetThreads: GetThreads? =
        symbol("openblas_get_num_threads").map { unsafeBitCast($0, to: GetThreads.self) }
    private static let openBLASSetThreads: SetThreads? =
        symbol("openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, name)
    }

    /// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ (one `cblas_sgemm`), all row-major with leading
    /// dimensions `k`, `k` and `ldc`: every row of A against every row of B.
    public static func productWithTranspose(
        m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(k), b, Int32(k), 0, c, Int32(ldc))
    }

    /// C = alpha · op(A) · op(B) + beta · C (one `cblas_sgemm`), row-major: op(A) is m×k,
    /// op(B) is k×n, C is m×n, with the given leading dimensions (row strides). `transposeB`
    /// with B stored n×k is the usual "rows of A against rows of B"; beta = 1 adds to what C
    /// already holds (a bias or a residual written there first).
    public static func multiply(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = xᵀ·A for a row vector x (m values) and A m×n row-major (one `cblas_sgemv`): a vector
    /// times a matrix, as a query adapter maps a query.
    public static func vectorTimesMatrix(
        m: Int, n: Int, x: UnsafePointer<Float>, a: UnsafePointer<Float>, lda: Int, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, a, Int32(lda), x, 1, 0, y, 1)
    }

    // Our workers each call sgemm; OpenBLAS's own threads must not fan out over the same cores
    // at the same time. While any such work runs, OpenBLAS is held at one thread, then restored.
    private static let singleThreadLock = Lock()
    nonisolated(unsafe) private static var singleThreadUsers = 0
    nonisolated(unsafe) private static var savedThreads: Int32 = 1

    /// Runs `body` with OpenBLAS limited to one thread (a no-op for other BLAS libraries).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        guard let get = openBLASGetThreads, let set = openBLASSetThreads else { return try body() }
        singleThreadLock.withLock {
            if singleThreadUsers == 0 {
                savedThreads = get()
                set(1)
            }
            singleThreadUsers += 1
        }
        defer {
            singleThreadLock.withLock {
                singleThreadUsers -= 1
                if singleThreadUsers == 0 { set(savedThreads) }
            }
        }
        return try body()
    }
}
