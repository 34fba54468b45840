import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSession {
    /// The answer to `request`, as `data(for:)` gives it, but safe to cancel on Linux, and with
    /// an optional deadline of its own.
    ///
    /// Linux's Foundation (Swift 6.3) cannot cancel a transfer safely: a task awaiting
    /// `data(for:)` that is cancelled as its answer arrives can deadlock (the cancellation
    /// handler holds the task's lock while it waits for the session's queue, which holds its own
    /// while it resumes the task: swift-corelibs-foundation #5412), and `URLSessionTask.cancel()`
    /// that races the transfer's end crashes ("a task that is not in the registry"). So here a
    /// deadline or a cancellation resumes the caller at once and the transfer is left to end by
    /// itself, within the session's `timeoutIntervalForRequest`.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled, `URLError(.timedOut)`
    ///   when `deadline` passes first, else what the transfer failed with.
    package func response(for request: URLRequest, deadline: Duration? = nil) async throws -> (Data, URLResponse) {
        let transfer = Transfer()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard transfer.begin(continuation) else { return }
                dataTask(with: request) { data, response, error in
                    if let data, let response {
                        transfer.finish(.success((data, response)))
                    } else {
                        transfer.finish(.failure(error ?? URLError(.badServerResponse)))
                    }
                }.resume()
                if let deadline {
                    let (seconds, attoseconds) = deadline.components
                    let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
                    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(max(0, nanoseconds))) {
                        transfer.finish(.failure(URLError(.timedOut)))
                    }
                }
            }
        } onCancel: {
            transfer.finish(.failure(CancellationError()))
        }
    }
}

/// One request's caller, resumed once by whichever comes first: the answer, the deadline or a
/// cancellation.
private final class Transfer: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(Data, URLResponse), any Error>?
    private var finished = false

    /// Keeps `continuation` to resume; false (and `continuation` resumed with a cancellation)
    /// when the caller was cancelled before the request began, so it is not sent.
    func begin(_ continuation: CheckedContinuation<(Data, URLResponse), any Error>) -> Bool {
        let cancelledBefore = lock.withLock {
            if !finished { self.continuation = continuation }
            return finished
        }
        if cancelledBefore { continuation.resume(throwing: CancellationError()) }
        return !cancelledBefore
    }

    func finish(_ result: Result<(Data, URLResponse), any Error>) {
        let continuation = lock.withLock {
            defer {
                finished = true
                self.continuation = nil
            }
            return finished ? nil : self.continuation
        }
        continuation?.resume(with: result)
    }
}
