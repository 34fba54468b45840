import Foundation

/// Where commands print their results: the process's standard output, or a buffer that a caller
/// running commands in process (the tests) sets for its task, so that nothing redirects the
/// process-wide descriptor under other threads. Progress and errors go to standard error as usual.
enum StandardOutput {
    /// Collects what the commands of one task print.
    final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var collected = ""
        init() {}
        var text: String { lock.withLock { collected } }
        func append(_ text: String) { lock.withLock { collected += text } }
    }

    @TaskLocal static var capture: Buffer?

    static func print(_ text: String, terminator: String = "\n") {
        if let capture {
            capture.append(text + terminator)
        } else {
            Swift.print(text, terminator: terminator)
        }
    }
}
