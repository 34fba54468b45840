/// The bytes one part of an index holds, in memory of its own or in a memory-mapped file
/// (``IndexLoadMode/mapped``), where only the pages searches touch are read in.
public struct IndexMemoryPart: Sendable, Equatable, Codable {
    /// What the part holds: `float32 vectors`, `codes` (with their scales and norms),
    /// `level-0 links`, `upper links`, `lists`, `centroids`, `ids`, `norms`, `attributes`.
    public var part: String
    public var bytes: Int
    /// Whether the bytes are in a mapped file rather than memory of the index's own.
    public var mapped: Bool
    /// The bytes in memory now: all of them for a part in memory of the index's own; for a mapped
    /// part, its pages in the page cache (those searches have touched, once the file's pages
    /// were evicted).
    public var resident: Int

    public init(part: String, bytes: Int, mapped: Bool, resident: Int? = nil) {
        self.part = part
        self.bytes = bytes
        self.mapped = mapped
        self.resident = resident ?? bytes
    }

    init(part: String, bytes: Int, start: UnsafeRawPointer, in mapping: MappedFile?) {
        self.init(part: part, bytes: bytes, mapped: mapping != nil, resident: mapping?.residentBytes(start, count: bytes))
    }
}

extension AttributeStore {
    /// Bytes of metadata, as the index file encodes them.
    var memoryPart: [IndexMemoryPart] {
        columns.isEmpty ? [] : [IndexMemoryPart(part: "attributes", bytes: encoded().count, mapped: false)]
    }
}

extension VectorStore {
    var memoryPart: IndexMemoryPart { IndexMemoryPart(part: "float32 vectors", bytes: capacity * dimension * 4, start: base, in: mapping) }
}

extension CodeStore {
    /// Codes, scales and norms: three ranges of the file when mapped.
    var memoryPart: IndexMemoryPart {
        guard let mapping else { return IndexMemoryPart(part: "codes", bytes: capacity * (rowBytes + 8), mapped: false) }
        let resident =
            mapping.residentBytes(base, count: count * rowBytes) + mapping.residentBytes(scales, count: count * 4)
            + mapping.residentBytes(normsSquared, count: count * 4)
        return IndexMemoryPart(part: "codes", bytes: count * (rowBytes + 8), mapped: true, resident: resident)
    }
}

extension FlatIndex {
    /// The bytes each part of the index holds.
    public var memoryParts: [IndexMemoryPart] {
        lock.withReadLock {
            [store.memoryPart] + (codes.map { [$0.memoryPart] } ?? [])
                + [
                    IndexMemoryPart(part: "ids", bytes: idMap.byteCount, mapped: false),
                    IndexMemoryPart(part: "norms", bytes: normsCapacity * 4, mapped: false),
                ] + attributeStore.memoryPart
        }
    }
}

extension HNSWIndex {
    /// The bytes each part of the index holds.
    public var memoryParts: [IndexMemoryPart] {
        lock.withReadLock {
            [store.memoryPart] + (codes.map { [$0.memoryPart] } ?? [])
                + [
                    graph.level0MemoryPart,
                    IndexMemoryPart(part: "upper links", bytes: graph.byteCount - graph.capacity * (graph.level0Stride * 4 + 1), mapped: false),
                    IndexMemoryPart(part: "ids", bytes: idMap.byteCount + freeSlots.capacity * 8, mapped: false),
                ] + attributeStore.memoryPart
        }
    }
}

extension IVFIndex {
    /// The bytes each part of the index holds.
    public var memoryParts: [IndexMemoryPart] {
        lock.withReadLock {
            [
                IndexMemoryPart(part: "lists", bytes: lists.byteCount, mapped: false),
                IndexMemoryPart(
                    part: "centroids",
                    bytes: centroids.capacity * dimension * 4 + centroidNorms.capacity * 4 + centroidSketches.capacity * 2
                        + centroidTerms.capacity * MemoryLayout<ListSketch.Terms>.stride, mapped: false),
                IndexMemoryPart(part: "ids", bytes: idMap.byteCount + locations.capacity * 8, mapped: false),
            ] + (lists.product.map { [IndexMemoryPart(part: "codebooks", bytes: $0.byteCount, mapped: false)] } ?? [])
                + (lists.mappedRows.map {
                    [IndexMemoryPart(part: "float32 vectors", bytes: $0.count * dimension * 4, start: $0.base, in: lists.mapping)]
                } ?? []) + attributeStore.memoryPart
        }
    }
}

extension AnyIndex {
    /// The bytes each part of the index holds (vectors, codes, links, ids, …), mapped or not.
    public var memoryParts: [IndexMemoryPart] {
        switch self {
        case let .flat(index): index.memoryParts
        case let .ivf(index): index.memoryParts
        case let .hnsw(index): index.memoryParts
        }
    }
}
