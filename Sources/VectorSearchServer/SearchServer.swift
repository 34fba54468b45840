import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import VectorSearch

/// Where and how `vectorsearch serve` listens.
public struct ServerConfiguration: Sendable {
    /// The address to bind: loopback unless told otherwise.
    public var host: String
    /// The port (0: any free port, printed when ready).
    public var port: Int
    /// When set, every endpoint but `/v1/health` needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// A connection that sends nothing for this long is closed (a stalled client cannot hold it).
    public var idleTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, idleTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.idleTimeout = idleTimeout
    }
}

/// The HTTP/JSON API (version 1, see `docs/API.md` and ``OpenAPIDocument``) over a
/// ``SearchService``, on Hummingbird 2: routing, the API key, limits, metrics and errors as
/// JSON. SIGTERM and SIGINT stop it gracefully: requests in flight are answered first.
public enum SearchServer {
    /// Runs until SIGTERM or SIGINT; `ready` is called with the address once it listens.
    public static func run(
        _ service: SearchService, configuration: ServerConfiguration, ready: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        try await handle(service, configuration: configuration, stopOnSignals: true, ready: ready).run()
    }

    /// Makes Swift concurrency run on the server's event-loop threads, so a request is read,
    /// searched and answered on one thread instead of hopping to the cooperative pool and back
    /// (measured in BENCHMARKS.md). Only before any task has started (the first thing `main`
    /// does); false when it is too late.
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// A server to run and stop from code (tests, a program that embeds it): ``Handle/run()``
    /// serves until ``Handle/stop()`` (or SIGTERM and SIGINT, with `stopOnSignals`), which
    /// answers the requests in flight first.
    public static func handle(
        _ service: SearchService, configuration: ServerConfiguration, stopOnSignals: Bool = false,
        ready: @escaping @Sendable (String) -> Void = { _ in }
    ) -> Handle {
        let application = application(service, configuration: configuration, ready: ready)
        return Handle(
            group: ServiceGroup(
                configuration: .init(services: [application], gracefulShutdownSignals: stopOnSignals ? [.sigterm, .sigint] : [], logger: application.logger)))
    }

    public struct Handle: Sendable {
        let group: ServiceGroup
        public func run() async throws { try await group.run() }
        public func stop() async { await group.triggerGracefulShutdown() }
    }

    static func application(
        _ service: SearchService, configuration: ServerConfiguration, ready: @escaping @Sendable (String) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let metrics = ServerMetrics()
        let router = Router()
        let limit = service.limits.maxBodyBytes
        router.add(middleware: APIMiddleware(apiKey: configuration.apiKey, metrics: metrics, maxBodyBytes: limit))
        router.get("/v1/health") { _, _ in json(Data(#"{"status":"ok"}"#.utf8)) }
        router.get("/v1/info") { _, _ in json(try service.info()) }
        router.post("/v1/search") { request, _ in
            json(try await service.search(body: Array(buffer: try await request.body.collect(upTo: limit))))
        }
        router.post("/v1/documents") { request, _ in
            json(try await service.upsert(body: Array(buffer: try await request.body.collect(upTo: limit))))
        }
        router.delete("/v1/documents/:id") { _, context in
            json(try service.deleteDocument(try context.parameters.require("id")))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(count: service.count))))
        }
        router.get("/openapi.json") { _, _ in json(Data(OpenAPIDocument.json.utf8)) }
        var logger = Logger(label: "vectorsearch-serve")
        logger.logLevel = .warning
        return Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vectorsearch"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                ready("http://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(port)")
            },
            logger: logger)
    }

    static func json(_ body: Data) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// Every request: the API key checked (but for health), errors of every kind answered as
/// `{"error": "..."}` with their status, and the request counted in the metrics.
struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?
    let metrics: ServerMetrics
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let endpoint = ServerMetrics.endpoint(request.uri.path)
        let response: Response
        do {
            if let apiKey, endpoint != "/v1/health", !Self.authorized(request, key: apiKey) {
                throw APIError(status: .unauthorized, message: "this server needs an API key: send \"Authorization: Bearer <key>\"")
            }
            response = try await next(request, context)
        } catch {
            response = errorResponse(error, request)
        }
        metrics.record(endpoint: endpoint, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    static func authorized(_ request: Request, key: String) -> Bool {
        guard !key.isEmpty, let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        // Compared in time independent of where the first difference is.
        let given = Array(header.utf8.dropFirst(7)), expected = Array(key.utf8)
        var difference = given.count ^ expected.count
        for i in 0..<given.count { difference |= Int(given[i] ^ expected[i % max(expected.count, 1)]) }
        return difference == 0
    }

    func errorResponse(_ error: any Error, _ request: Request) -> Response {
        let status: HTTPResponse.Status, message: String
        switch error {
        case let error as HTTPError:
            status = error.status
            message = error.body ?? describe(status, request)
        case let error as any HTTPResponseError:  // a body over the limit, among others
            status = error.status
            message = describe(status, request)
        default:
            let error = APIError(error)
            (status, message) = (error.status, error.message)
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        var text = #"{"error":"#
        JSONValue.write(string: message, to: &text)
        let body = Data((text + "}").utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    func describe(_ status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .contentTooLarge: "the request body is larger than this server's limit of \(maxBodyBytes) bytes (--max-body)"
        case .notFound, .methodNotAllowed: "no endpoint \(request.method) \(request.uri.path) (see GET /openapi.json)"
        default: status.reasonPhrase
        }
    }
}
