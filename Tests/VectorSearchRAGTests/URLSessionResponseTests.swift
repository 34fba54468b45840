import Foundation
import Testing
import TestSupport

@testable import VectorSearchRAG

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `URLSession.response(for:deadline:)`, which the endpoints and the shard router use instead of
/// `data(for:)`: Linux's `data(for:)` can deadlock when its task is cancelled as the answer
/// arrives (swift-corelibs-foundation #5412).
@Suite("URLSession responses with a deadline and cancellation")
struct URLSessionResponseTests {
    static func request(_ server: TestHTTPServer) -> URLRequest { URLRequest(url: server.url.appendingPathComponent("x")) }

    @Test("an answer comes back whole; a deadline before a slow answer gives timedOut; cancelling gives CancellationError")
    func outcomes() async throws {
        let server = try TestHTTPServer { request, _ in
            request.path.hasSuffix("slow") ? .init(text: "late", delay: 30) : .init(text: "hello")
        }
        defer { server.stop() }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }

        let (data, response) = try await session.response(for: Self.request(server), deadline: .seconds(30))
        #expect(String(decoding: data, as: UTF8.self) == "hello")
        #expect((response as? HTTPURLResponse)?.statusCode == 200)

        let slow = URLRequest(url: server.url.appendingPathComponent("slow"))
        await #expect(throws: URLError(.timedOut)) { _ = try await session.response(for: slow, deadline: .milliseconds(100)) }

        let waiting = Task { try await session.response(for: slow) }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }

        // A task cancelled before its request starts does not send it.
        let before = server.requests.count
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await session.response(for: Self.request(server))
        }
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
        #expect(server.requests.count == before)
    }

    /// The pattern that deadlocks `data(for:)`: deadlines and cancellations that land while the
    /// answers arrive. Every request must end, each with its answer, a timeout or a cancellation.
    @Test("deadlines and cancellations racing the answers: every request ends")
    func races() async throws {
        let server = try TestHTTPServer { _, _ in .init(text: "ok") }
        defer { server.stop() }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let outcomes = await withTaskGroup(of: String.self) { group in
            for i in 0..<400 {
                group.addTask {
                    let request = Self.request(server)
                    do {
                        if i % 2 == 0 {
                            _ = try await session.response(for: request, deadline: .microseconds(200 * (i % 10)))
                        } else {
                            let task = Task { try await session.response(for: request) }
                            try? await Task.sleep(for: .microseconds(200 * (i % 10)))
                            task.cancel()
                            _ = try await task.value
                        }
                        return "answered"
                    } catch let error as URLError where error.code == .timedOut {
                        return "timed out"
                    } catch is CancellationError {
                        return "cancelled"
                    } catch {
                        return "failed: \(error)"
                    }
                }
            }
            var outcomes: [String] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { ["answered", "timed out", "cancelled"].contains($0) }, "\(Set(outcomes))")
    }
}
