/// What one request may ask for; larger requests are refused with 413 or 400 and a message
/// that names the limit, so one client cannot hold the server for long.
public struct ServerLimits: Sendable, Equatable {
    /// Largest request body in bytes (a batch of 1,000 384-d vectors as JSON is about 8 MB).
    public var maxBodyBytes: Int
    /// Largest `k`.
    public var maxK: Int
    /// Most query vectors in one batch request.
    public var maxBatch: Int
    /// Most documents in one upsert.
    public var maxDocuments: Int

    public init(maxBodyBytes: Int = 32 << 20, maxK: Int = 1000, maxBatch: Int = 1000, maxDocuments: Int = 1000) {
        self.maxBodyBytes = maxBodyBytes
        self.maxK = maxK
        self.maxBatch = maxBatch
        self.maxDocuments = maxDocuments
    }

    public static let `default` = ServerLimits()
}
