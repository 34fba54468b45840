import VectorSearch

/// A `POST /v1/search` body, parsed and checked: exactly one of `vector`, `vectors` and `text`
/// (or `text` with `vector` for hybrid retrieval), `k`, an optional `filter` in the JSON form of
/// ``Filter/init(json:)``, the search settings `ef`, `nprobe` and `rerank`, and for collections
/// `hybrid`, `min_score`, `mmr` and `max_per_document`. Unknown keys are refused, so a typo is
/// not silently ignored.
struct SearchRequest {
    /// One query vector, a batch of them, or none (a text to embed).
    var vectors: [[Float]]
    var isBatch: Bool
    var text: String?
    var k = 10
    var filter: Filter?
    var options = SearchOptions.default
    /// Index results carry each vector's metadata too.
    var includeMetadata = false
    // Collection retrieval only.
    var hybrid = false
    var minScore: Float?
    var mmr: Double?
    var maxPerDocument: Int?

    static let keys: Set<String> = [
        "vector", "vectors", "text", "k", "filter", "ef", "nprobe", "rerank", "metadata", "hybrid", "min_score", "mmr",
        "max_per_document",
    ]
    /// Keys only a collection takes.
    static let collectionKeys: Set<String> = ["text", "hybrid", "min_score", "mmr", "max_per_document"]

    init(body: UnsafeRawBufferPointer, limits: ServerLimits) throws(APIError) {
        let members = try RequestBody.object(body)
        if let unknown = members.first(where: { !Self.keys.contains($0.key) }) {
            throw .badRequest("unknown key \"\(unknown.key)\" (expected \(Self.keys.sorted().joined(separator: ", ")))")
        }
        let value = RequestBody.lookup(members)
        switch (value("vector"), value("vectors")) {
        case let (vector?, nil):
            vectors = [try RequestBody.floats(vector, name: "vector")]
            isBatch = false
        case let (nil, batch?):
            guard case .array(let rows) = batch else { throw .badRequest("\"vectors\" must be an array of arrays of numbers") }
            guard rows.count <= limits.maxBatch else {
                throw .badRequest("\"vectors\" holds \(rows.count) queries; the limit is \(limits.maxBatch) per request")
            }
            vectors = try rows.enumerated().map { row, vector throws(APIError) in try RequestBody.floats(vector, name: "vectors[\(row)]") }
            isBatch = true
        case (nil, nil):
            vectors = []
            isBatch = false
        case (_?, _?):
            throw .badRequest("give \"vector\" or \"vectors\", not both")
        }
        if let given = value("text") {
            guard case .string(let text) = given else { throw .badRequest("\"text\" must be a string") }
            self.text = text
        }
        if vectors.isEmpty && text == nil && !isBatch { throw .badRequest("give the query as \"vector\", \"vectors\" or \"text\"") }
        if isBatch && text != nil { throw .badRequest("\"text\" goes with one \"vector\", not a batch") }
        if let given = value("k") { k = try RequestBody.integer(given, name: "k", in: 1...limits.maxK) }
        if let given = value("filter"), given != .null {
            do {
                filter = try Filter(json: given)
            } catch {
                throw .badRequest("\(error)")
            }
        }
        if let given = value("ef") { options.ef = try RequestBody.integer(given, name: "ef", in: 1...Int(Int32.max)) }
        if let given = value("nprobe") { options.nprobe = try RequestBody.integer(given, name: "nprobe", in: 1...Int(Int32.max)) }
        if let given = value("rerank") { options.rerank = try RequestBody.integer(given, name: "rerank", in: 0...1000) }
        if let given = value("metadata") { includeMetadata = try RequestBody.bool(given, name: "metadata") }
        if let given = value("hybrid") { hybrid = try RequestBody.bool(given, name: "hybrid") }
        if let given = value("min_score"), given != .null {
            guard let number = given.double, Float(number).isFinite else { throw .badRequest("\"min_score\" must be a finite number") }
            minScore = Float(number)
        }
        if let given = value("mmr"), given != .null {
            guard let lambda = given.double, (0...1).contains(lambda) else { throw .badRequest("\"mmr\" takes a λ in [0, 1]") }
            mmr = lambda
        }
        if let given = value("max_per_document"), given != .null {
            maxPerDocument = try RequestBody.integer(given, name: "max_per_document", in: 1...Int(Int32.max))
        }
        if hybrid && text == nil { throw .badRequest("\"hybrid\" needs the query's \"text\"") }
        collectionOnly = members.map(\.key).filter(Self.collectionKeys.contains)
    }

    /// The collection-only keys this request gives (refused by an index server).
    var collectionOnly: [String] = []
}

/// Reading JSON request bodies with the library's parser (the one that reads JSON Lines files
/// and filters), with errors that name the key.
enum RequestBody {
    static func object(_ body: UnsafeRawBufferPointer) throws(APIError) -> [(key: String, value: JSONValue)] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body)
        } catch let error as JSONSyntaxError {
            throw .badRequest("the body is not valid JSON: \(error.reason)")
        } catch {
            throw .badRequest("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = json else { throw .badRequest("the body must be a JSON object") }
        return members
    }

    /// The value of a key (the last, if repeated, as the library's readers take it).
    static func lookup(_ members: [(key: String, value: JSONValue)]) -> (String) -> JSONValue? {
        { key in members.last { $0.key == key }?.value }
    }

    static func floats(_ value: JSONValue, name: String) throws(APIError) -> [Float] {
        guard case .array(let items) = value else { throw .badRequest("\"\(name)\" must be an array of numbers") }
        var result = [Float]()
        result.reserveCapacity(items.count)
        for (column, item) in items.enumerated() {
            let number: Double
            switch item {
            case .number(let d): number = d
            case .integer(let i): number = Double(i)
            default: throw .badRequest("\(name)[\(column)] is not a number: \(item.description)")
            }
            guard Float(number).isFinite else { throw .badRequest("\(name)[\(column)] = \(item.description) is outside the float32 range") }
            result.append(Float(number))
        }
        return result
    }

    static func integer(_ value: JSONValue, name: String, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let number = value.int ?? value.double.flatMap({ Int(exactly: $0) }), range.contains(number) else {
            throw .badRequest("\"\(name)\" must be an integer in \(range.lowerBound)...\(range.upperBound), not \(value.description)")
        }
        return number
    }

    static func bool(_ value: JSONValue, name: String) throws(APIError) -> Bool {
        guard let flag = value.bool else { throw .badRequest("\"\(name)\" must be true or false, not \(value.description)") }
        return flag
    }
}
