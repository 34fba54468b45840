import Prometheus

/// What `GET /metrics` reports, in the Prometheus text format: requests by endpoint and
/// status, their latency by endpoint, and the size of what is served.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Endpoints by route (a document's id is not a label of its own), each with its histogram.
    private let latencies: [String: DurationHistogram]
    /// The counters of the common answers, made once (the registry looks others up by name).
    private let counters: [String: [Int: Counter]]
    private let size: Gauge

    static let endpoints = ["/v1/search", "/v1/documents", "/v1/documents/{id}", "/v1/info", "/v1/health", "/metrics", "/openapi.json", "other"]

    init() {
        let buckets: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
        ]
        var latencies: [String: DurationHistogram] = [:]
        for endpoint in Self.endpoints {
            latencies[endpoint] = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "vectorsearch", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer a request"),
                labels: [("endpoint", endpoint)], buckets: buckets)
        }
        self.latencies = latencies
        let registry = registry
        counters = Dictionary(
            uniqueKeysWithValues: Self.endpoints.map { endpoint in
                (endpoint, Dictionary(uniqueKeysWithValues: [200, 400, 401, 404].map { ($0, Self.counter(registry, endpoint, $0)) }))
            })
        size = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "vectorsearch", metricName: "vectors", helpText: "Vectors in the index (chunks in a collection)"),
            labels: [])
    }

    /// The route label of a request path.
    static func endpoint(_ path: String) -> String {
        if path.hasPrefix("/v1/documents/") { return "/v1/documents/{id}" }
        return endpoints.contains(path) ? path : "other"
    }

    func record(endpoint: String, status: Int, duration: Duration) {
        latencies[endpoint]?.record(duration)
        (counters[endpoint]?[status] ?? Self.counter(registry, endpoint, status)).increment()
    }

    private static func counter(_ registry: PrometheusCollectorRegistry, _ endpoint: String, _ status: Int) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "vectorsearch", metricName: "requests", unitName: "total", helpText: "Requests answered"),
            labels: [("endpoint", endpoint), ("status", String(status))])
    }

    /// The text of `GET /metrics`, with the size of what is served as of now.
    func exposition(count: Int) -> [UInt8] {
        size.set(Int64(count))
        return registry.emitToBuffer()
    }
}
