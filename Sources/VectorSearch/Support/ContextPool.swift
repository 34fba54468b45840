/// Scratch memory for concurrent searches, one context per search in flight: taken for one
/// query and given back after, so once the pool holds a context per thread a search allocates
/// nothing. A context that no longer `fits` the index (it grew, or was retrained) is dropped and
/// a new one made.
package final class ContextPool<Context: AnyObject>: @unchecked Sendable {
    private let lock = Lock()
    private var free: [Context] = []

    package init() {}

    package func withContext<R>(
        fits: (Context) -> Bool = { _ in true }, make: () throws -> Context, _ body: (Context) throws -> R
    ) rethrows -> R {
        let pooled = lock.withLock { free.popLast() }
        let context = try pooled.flatMap { fits($0) ? $0 : nil } ?? make()
        defer { lock.withLock { free.append(context) } }
        return try body(context)
    }
}
