import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real HTTP/1.1 server on 127.0.0.1 for tests: it answers each request with what `respond`
/// returns (after the response's delay), one thread per connection, and records every request.
/// Enough HTTP for a client that sends `Content-Length` bodies; every response closes its connection.
public final class TestHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: Data

        /// The body as a JSON object (nil if it is not one).
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]
        /// Seconds to wait before answering.
        public var delay: Double

        public init(status: Int = 200, body: Data, headers: [String: String] = [:], delay: Double = 0) {
            self.status = status
            self.body = body
            self.headers = headers
            self.delay = delay
        }

        public init(status: Int = 200, json: Any, headers: [String: String] = [:], delay: Double = 0) {
            self.init(status: status, body: try! JSONSerialization.data(withJSONObject: json), headers: headers, delay: delay)
        }

        public init(status: Int = 200, text: String, headers: [String: String] = [:], delay: Double = 0) {
            self.init(status: status, body: Data(text.utf8), headers: headers, delay: delay)
        }
    }

    /// The port it listens on.
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private let listener: Int32
    private let respond: @Sendable (_ request: Request, _ number: Int) -> Response
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var stopped = false
    /// Signalled when the accept loop has returned: only then is the listener closed, so its
    /// descriptor number cannot be reused (by another test's socket) while the loop still uses it.
    private let acceptLoopEnded = DispatchSemaphore(value: 0)
    /// Connections being served; `stop()` waits for them, so no thread outlives the server.
    private let connections = DispatchGroup()

    /// Starts listening on an ephemeral port. `respond` gets each request and its number (from 0).
    public init(respond: @escaping @Sendable (_ request: Request, _ number: Int) -> Response) throws {
        self.respond = respond
        (listener, port) = try bindLoopbackSocket(listening: true)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Runs `body` with a server that is stopped when `body` returns or throws.
    public static func with<R>(
        respond: @escaping @Sendable (_ request: Request, _ number: Int) -> Response, _ body: (TestHTTPServer) async throws -> R
    ) async throws -> R {
        let server = try TestHTTPServer(respond: respond)
        defer { server.stop() }
        return try await body(server)
    }

    /// The requests received so far, in order of arrival.
    public var requests: [Request] { lock.withLock { recorded } }

    /// Stops accepting connections: wakes the accept loop, waits for it to end, then closes the
    /// listening socket, once, and waits for the connections being served (a delayed answer is
    /// dropped). Calling it again does nothing. (A running server is kept alive by its accept
    /// loop, so it stops only when told to.)
    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptLoopEnded.wait()
        close(listener)
        connections.wait()
    }

    private func acceptLoop() {
        defer { acceptLoopEnded.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            connections.enter()
            let thread = Thread { [self] in
                defer { connections.leave() }
                serve(connection)
            }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { closeGracefully(connection) }
        // A client that sends nothing is given up on, so that `stop()` never waits on it for long.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let request = readRequest(connection) else { return }
        let number = lock.withLock {
            recorded.append(request)
            return recorded.count - 1
        }
        let response = respond(request, number)
        // A delayed answer is dropped (the connection closed) when the server stops meanwhile.
        let answerAt = Date(timeIntervalSinceNow: response.delay)
        while Date() < answerAt {
            if lock.withLock({ stopped }) { return }
            Thread.sleep(forTimeInterval: min(0.05, answerAt.timeIntervalSinceNow))
        }
        var head = "HTTP/1.1 \(response.status) \(response.status < 400 ? "OK" : "Error")\r\n"
        var headers = response.headers
        headers["Content-Length"] = String(response.body.count)
        headers["Content-Type"] = headers["Content-Type"] ?? "application/json"
        headers["Connection"] = "close"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Data(head.utf8)
        bytes.append(response.body)
        bytes.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(connection, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { break }
                sent += n
            }
        }
    }

    /// Ends the connection as HTTP servers do ("lingering close"): stop sending, read what the
    /// client still sends (up to a second), then close. Closing with unread bytes in the receive
    /// buffer makes the kernel reset the connection, and a client still writing then fails with
    /// a broken pipe instead of reading the response.
    private func closeGracefully(_ connection: Int32) {
        shutdown(connection, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 4096)
        while recv(connection, &scratch, scratch.count, 0) > 0 {}
        close(connection)
    }

    /// Reads the head and a `Content-Length` body; nil if the client went away first.
    private func readRequest(_ connection: Int32) -> Request? {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Range<Data.Index>?
        while headEnd == nil {
            let n = recv(connection, &chunk, chunk.count, 0)
            guard n > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<n])
            headEnd = buffer.range(of: separator)
        }
        let lines = String(decoding: buffer[..<headEnd!.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Data(buffer[headEnd!.upperBound...])
        while body.count < length {
            let n = recv(connection, &chunk, min(chunk.count, length - body.count), 0)
            guard n > 0 else { return nil }
            body.append(contentsOf: chunk[0..<n])
        }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }
}

/// A port on 127.0.0.1 that is bound but not listening, for as long as this value lives:
/// connecting to it is refused, and no other socket can take the port meanwhile (a server's
/// port after `stop()` could be taken by another test's server and answer).
public final class ClosedPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    /// `http://127.0.0.1:PORT`.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public init() throws {
        (fd, port) = try bindLoopbackSocket(listening: false)
    }

    deinit { close(fd) }
}

/// A TCP socket bound to an ephemeral port on 127.0.0.1, listening or not: its descriptor and port.
private func bindLoopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    #if canImport(Glibc) || canImport(Musl)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && (!listening || listen(fd, 16) == 0) && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else {
        close(fd)
        throw POSIXError(.init(rawValue: errno) ?? .EIO)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
