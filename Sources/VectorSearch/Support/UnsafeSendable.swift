/// Carries a pointer (or a closure) into a parallel section, where Swift's `Sendable` checking
/// cannot see that workers touch disjoint parts. The one such box in the package: every use is
/// a `Parallel.forEachChunk` (or `concurrentPerform`) whose workers write disjoint rows.
package struct UnsafeSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
