import Foundation
import VectorSearch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Float32 tensors are used in place (no copy); float16 and bfloat16 ones are widened once.
final class SafeTensorsFile: @unchecked Sendable {  // immutable after init
    struct Entry {
        var dtype: String
        var shape: [Int]
        var bytes: Range<Int>  // within the file
    }

    let path: String
    let entries: [String: Entry]
    private let mapping: UnsafeRawPointer
    private let length: Int

    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        let (fd, length): (Int32, Int)
        do { (fd, length) = try RegularFile.open(path) } catch let VectorSearchError.io(_, reason) {
            throw EmbeddingModelError.unreadable(path: path, reason: reason)
        }
        defer { close(fd) }
        guard length >= 8 else {
            throw EmbeddingModelError.malformed(path: path, reason: "truncated safetensors file: \(length) bytes, no header")
        }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw EmbeddingModelError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        var keepMapping = false
        defer { if !keepMapping { munmap(mapped, length) } }
        let base = UnsafeRawPointer(mapped)
        let declaredLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard declaredLength <= UInt64(length - 8) else {
            throw EmbeddingModelError.malformed(
                path: path, reason: "truncated safetensors file: header of \(declaredLength) bytes, file has \(length)")
        }
        let headerLength = Int(declaredLength)
        let header = UnsafeRawBufferPointer(start: base + 8, count: headerLength)
        guard let json = (try? JSONValue.parse(header))?.object else {
            throw EmbeddingModelError.malformed(path: path, reason: "safetensors header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        var entries: [String: Entry] = [:]
        for (name, value) in json where name != "__metadata__" {
            guard let dtype = value["dtype"]?.string, let shape = value["shape"]?.array?.compactMap(\.int),
                shape.count == value["shape"]?.array?.count,
                let offsets = value["data_offsets"]?.array?.compactMap(\.int), offsets.count == 2
            else {
                throw EmbeddingModelError.malformed(path: path, reason: "tensor \(name): header entry lacks dtype, shape or data_offsets")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], shape.allSatisfy({ $0 >= 0 }) else {
                throw EmbeddingModelError.malformed(path: path, reason: "tensor \(name): invalid data_offsets \(offsets) or shape \(shape)")
            }
            // Offsets are checked against the file before any sum, so nothing below can overflow.
            guard offsets[1] <= length - dataStart else {
                throw EmbeddingModelError.malformed(
                    path: path, reason: "truncated safetensors file: tensor \(name) ends at data byte \(offsets[1]), file has \(length)")
            }
            let begin = dataStart + offsets[0], end = dataStart + offsets[1]
            if let width = Self.elementWidth(dtype) {
                // The element count saturates: a shape too large for the data is refused, not an overflow.
                let count = shape.reduce(1) { ParameterCheck.saturatingProduct($0, $1) }
                let bytes = ParameterCheck.saturatingProduct(count, width)
                guard bytes == end - begin else {
                    throw EmbeddingModelError.malformed(
                        path: path, reason: "tensor \(name): shape \(shape) of \(dtype) does not fill data_offsets' \(end - begin) bytes")
                }
            }
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: begin..<end)
        }
        self.entries = entries
        self.mapping = base
        self.length = length
        keepMapping = true
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: mapping), length) }

    private static func elementWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": 4
        case "F16", "BF16": 2
        default: nil
        }
    }

    /// The float32 values of tensor `name`, which must have shape `shape`.
    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let entry = entries[name] else { throw EmbeddingModelError.missingTensor(path: path, tensor: name) }
        guard entry.shape == shape else {
            throw EmbeddingModelError.wrongShape(path: path, tensor: name, expected: shape, actual: entry.shape)
        }
        let count = shape.reduce(1, *)
        let source = mapping + entry.bytes.lowerBound
        switch entry.dtype {
        case "F32" where Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0:
            return Tensor(file: self, pointer: source.assumingMemoryBound(to: Float.self), count: count)
        case "F32":
            return Tensor(widening: count) { i in Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case "F16":
            return Tensor(widening: count) { i in
                Float(Float16(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case "BF16":
            return Tensor(widening: count) { i in
                Float(bitPattern: UInt32(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        default:
            throw EmbeddingModelError.unsupported(path: path, reason: "tensor \(name) has dtype \(entry.dtype); F32, F16 and BF16 are read")
        }
    }
}

/// Float32 weights: a view into a mapped file, or values widened from a narrower dtype.
final class Tensor: @unchecked Sendable {  // read-only after init
    let pointer: UnsafePointer<Float>
    let count: Int
    private let owner: AnyObject?  // the mapped file, when `pointer` points into it
    private let owned: UnsafeMutablePointer<Float>?

    init(file: SafeTensorsFile, pointer: UnsafePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
        self.owner = file
        self.owned = nil
    }

    init(widening count: Int, _ value: (Int) -> Float) {
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        for i in 0..<count { storage[i] = value(i) }
        self.pointer = UnsafePointer(storage)
        self.count = count
        self.owner = nil
        self.owned = storage
    }

    /// The tensors' values one after another (query, key and value weights stacked into one).
    convenience init(concatenating parts: [Tensor]) {
        let values = parts.flatMap { UnsafeBufferPointer(start: $0.pointer, count: $0.count) }
        self.init(widening: values.count) { values[$0] }
    }

    deinit { owned?.deallocate() }

    /// Whether any value is NaN or infinite (a damaged or unconverted file).
    var hasNonFinite: Bool { UnsafeBufferPointer(start: pointer, count: count).contains { !$0.isFinite } }
}
