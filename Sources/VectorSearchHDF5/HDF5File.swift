import CHDF5
import Foundation
import VectorSearch

/// A file in HDF5 format, read and written through libhdf5: two-dimensional numeric datasets
/// and string attributes, which is what ann-benchmarks files hold.
///
/// libhdf5 builds without thread safety exist (Debian's is thread-safe), so every call into it
/// here holds one process-wide lock; an `HDF5File` can be used from any thread.
public final class HDF5File: @unchecked Sendable {
    /// How a dataset's elements are stored in the file.
    public enum ElementType: String, Sendable, CaseIterable {
        case float32, float64, int32, int64, uint8

        var fileType: hid_t {
            switch self {
            case .float32: vs_h5_ieee_f32le()
            case .float64: vs_h5_ieee_f64le()
            case .int32: vs_h5_std_i32le()
            case .int64: vs_h5_std_i64le()
            case .uint8: vs_h5_std_u8le()
            }
        }
    }

    public let path: String
    private let id: hid_t

    private static let lock = NSLock()

    private static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        // Per call: a thread-safe libhdf5 keeps this setting per thread.
        vs_h5_silence_errors()
        return try body()
    }

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    /// Opens an existing file for reading.
    public static func open(_ path: String) throws -> HDF5File {
        try locked {
            guard FileManager.default.fileExists(atPath: path) else {
                throw VectorSearchError.io(path: path, reason: "no such file")
            }
            guard H5Fis_hdf5(path) > 0 else { throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "not an HDF5 file") }
            // Closing the file closes everything in it, even after a failed read of a damaged file
            // (otherwise libhdf5 cannot shut down cleanly at exit).
            let access = H5Pcreate(vs_h5_file_access())
            defer { H5Pclose(access) }
            H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)
            try RegularFile.check(path)  // a FIFO or a device is refused, not waited on
            let id = H5Fopen(path, vs_h5_acc_rdonly(), access)
            guard id >= 0 else { throw VectorSearchError.io(path: path, reason: "libhdf5 could not open it") }
            return HDF5File(path: path, id: id)
        }
    }

    /// Creates a file (replacing one that is there) for writing.
    public static func create(_ path: String) throws -> HDF5File {
        try locked {
            let id = H5Fcreate(path, vs_h5_acc_trunc(), vs_h5_default(), vs_h5_default())
            guard id >= 0 else { throw VectorSearchError.io(path: path, reason: "libhdf5 could not create it") }
            return HDF5File(path: path, id: id)
        }
    }

    deinit { _ = Self.locked { H5Fclose(id) } }

    private func malformed(_ dataset: String, _ reason: String) -> VectorSearchError {
        .malformedFile(path: path, row: nil, byteOffset: nil, reason: "dataset '\(dataset)': \(reason)")
    }

    /// Whether the file has a dataset (or group) of this name at its root.
    public func contains(_ name: String) -> Bool {
        Self.locked { H5Lexists(id, name, vs_h5_default()) > 0 }
    }

    /// The shape of a dataset and the type of its elements (nil: not a plain number).
    public func describe(_ name: String) throws -> (shape: [Int], type: ElementType?) {
        try Self.locked {
            let dataset = try open(dataset: name)
            defer { H5Dclose(dataset) }
            return (try shape(dataset, name), elementType(dataset))
        }
    }

    /// A two-dimensional dataset as rows × columns floats (any integer or float type in the
    /// file; libhdf5 converts). Non-finite values are refused with their row and column.
    public func readFloats(_ name: String) throws -> (values: [Float], rows: Int, columns: Int) {
        let (values, rows, columns) = try read(name, memoryType: vs_h5_native_float(), zero: Float(0))
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw malformed(name, "row \(bad / columns), column \(bad % columns) is \(values[bad]); vectors must be finite")
        }
        return (values, rows, columns)
    }

    /// A two-dimensional integer dataset as rows × columns Int32 (values outside Int32 are refused).
    public func readInt32s(_ name: String) throws -> (values: [Int32], rows: Int, columns: Int) {
        try Self.locked {
            let dataset = try open(dataset: name)
            defer { H5Dclose(dataset) }
            let type = H5Dget_type(dataset)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_INTEGER else { throw malformed(name, "holds \(typeName(type)), not integers") }
            if H5Tget_size(type) > 4 {
                // Wider integers: read as Int64 and check they fit.
                let (wide, rows, columns) = try readLocked(dataset, name, memoryType: vs_h5_native_int64(), zero: Int64(0))
                if let bad = wide.firstIndex(where: { $0 < Int64(Int32.min) || $0 > Int64(Int32.max) }) {
                    throw malformed(name, "row \(bad / columns), column \(bad % columns) is \(wide[bad]), outside Int32")
                }
                return (wide.map { Int32($0) }, rows, columns)
            }
            return try readLocked(dataset, name, memoryType: vs_h5_native_int32(), zero: Int32(0))
        }
    }

    /// Writes a rows × columns dataset of floats, stored as `type`; `chunkRows` stores it in
    /// gzip-compressed chunks of that many rows (smaller files, slower reads).
    public func write(_ values: [Float], rows: Int, columns: Int, to name: String, as type: ElementType = .float32, chunkRows: Int? = nil) throws {
        try write(values, rows: rows, columns: columns, memoryType: vs_h5_native_float(), to: name, as: type, chunkRows: chunkRows)
    }

    /// Writes a rows × columns dataset of integers, stored as `type`.
    public func write(_ values: [Int32], rows: Int, columns: Int, to name: String, as type: ElementType = .int32, chunkRows: Int? = nil) throws {
        try write(values, rows: rows, columns: columns, memoryType: vs_h5_native_int32(), to: name, as: type, chunkRows: chunkRows)
    }

    /// A string attribute of the file (nil when it has none), fixed-length or variable-length
    /// (h5py writes a Python str as variable-length UTF-8).
    public func stringAttribute(_ name: String) throws -> String? {
        try Self.locked {
            guard H5Aexists(id, name) > 0 else { return nil }
            let attribute = H5Aopen(id, name, vs_h5_default())
            guard attribute >= 0 else {
                throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "attribute '\(name)' cannot be opened")
            }
            defer { H5Aclose(attribute) }
            let type = H5Aget_type(attribute)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING else {
                throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "attribute '\(name)' is \(typeName(type)), not a string")
            }
            let memory = H5Tcopy(vs_h5_c_s1())
            defer { H5Tclose(memory) }
            if H5Tis_variable_str(type) > 0 {
                H5Tset_size(memory, vs_h5_variable())
                H5Tset_cset(memory, H5Tget_cset(type))
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, memory, &pointer) >= 0, let pointer else {
                    throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "attribute '\(name)' cannot be read")
                }
                defer { H5free_memory(pointer) }
                return String(cString: pointer)
            }
            let size = H5Tget_size(type)
            H5Tset_size(memory, size + 1)  // room for the terminating zero
            var bytes = [CChar](repeating: 0, count: size + 1)
            guard H5Aread(attribute, memory, &bytes) >= 0 else {
                throw VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: "attribute '\(name)' cannot be read")
            }
            return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Sets a string attribute of the file, variable-length UTF-8 as h5py writes it.
    public func setStringAttribute(_ name: String, _ value: String) throws {
        try Self.locked {
            let type = H5Tcopy(vs_h5_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, vs_h5_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
            let attribute = H5Acreate2(id, name, type, space, vs_h5_default(), vs_h5_default())
            guard attribute >= 0 else { throw VectorSearchError.io(path: path, reason: "cannot create attribute '\(name)'") }
            defer { H5Aclose(attribute) }
            let status = value.withCString { text in
                var pointer: UnsafePointer<CChar>? = text
                return H5Awrite(attribute, type, &pointer)
            }
            guard status >= 0 else { throw VectorSearchError.io(path: path, reason: "cannot write attribute '\(name)'") }
        }
    }

    // MARK: - Internals (called with the lock held)

    private func open(dataset name: String) throws -> hid_t {
        guard H5Lexists(id, name, vs_h5_default()) > 0 else { throw malformed(name, "missing") }
        let dataset = H5Dopen2(id, name, vs_h5_default())
        guard dataset >= 0 else { throw malformed(name, "is not a dataset") }
        return dataset
    }

    private func shape(_ dataset: hid_t, _ name: String) throws -> [Int] {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw malformed(name, "has no simple shape") }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.prefix(rank).map { Int($0) }
    }

    private func elementType(_ dataset: hid_t) -> ElementType? {
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT: return size == 4 ? .float32 : size == 8 ? .float64 : nil
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, false): return .uint8
            case (4, true): return .int32
            case (8, true): return .int64
            default: return nil
            }
        default: return nil
        }
    }

    private func typeName(_ type: hid_t) -> String {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER: return "\(size * 8)-bit integers"
        case H5T_FLOAT: return "\(size * 8)-bit floats"
        case H5T_STRING: return "strings"
        case H5T_COMPOUND: return "compound records"
        case H5T_ENUM: return "enums"
        default: return "a non-numeric type"
        }
    }

    private func read<T>(_ name: String, memoryType: hid_t, zero: T) throws -> (values: [T], rows: Int, columns: Int) {
        try Self.locked {
            let dataset = try open(dataset: name)
            defer { H5Dclose(dataset) }
            let type = H5Dget_type(dataset)
            defer { H5Tclose(type) }
            let typeClass = H5Tget_class(type)
            guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else { throw malformed(name, "holds \(typeName(type)), not numbers") }
            return try readLocked(dataset, name, memoryType: memoryType, zero: zero)
        }
    }

    private func readLocked<T>(_ dataset: hid_t, _ name: String, memoryType: hid_t, zero: T) throws -> (values: [T], rows: Int, columns: Int) {
        let dims = try shape(dataset, name)
        guard dims.count == 2 else { throw malformed(name, "has shape \(dims); expected two dimensions (rows × columns)") }
        let (rows, columns) = (dims[0], dims[1])
        guard columns > 0 || rows == 0 else { throw malformed(name, "has rows of zero columns") }
        var values = [T](repeating: zero, count: rows * columns)
        if values.isEmpty { return (values, rows, columns) }
        let status = values.withUnsafeMutableBytes { H5Dread(dataset, memoryType, vs_h5_default(), vs_h5_default(), vs_h5_default(), $0.baseAddress) }
        guard status >= 0 else { throw malformed(name, "cannot be read (truncated or corrupt file?)") }
        return (values, rows, columns)
    }

    private func write<T>(
        _ values: [T], rows: Int, columns: Int, memoryType: hid_t, to name: String, as type: ElementType, chunkRows: Int?
    ) throws {
        guard rows >= 0, columns > 0, values.count == rows * columns else {
            throw VectorSearchError.invalidArgument("dataset '\(name)': \(values.count) values are not \(rows) rows of \(columns)")
        }
        if let chunkRows { try ParameterCheck.atLeast(1, "chunk rows", chunkRows) }
        try Self.locked {
            var dims = [hsize_t(rows), hsize_t(columns)]
            let space = H5Screate_simple(2, &dims, nil)
            defer { H5Sclose(space) }
            let properties = H5Pcreate(vs_h5_dataset_create())
            defer { H5Pclose(properties) }
            if let chunkRows, rows > 0 {
                var chunk = [hsize_t(min(chunkRows, rows)), hsize_t(columns)]
                H5Pset_chunk(properties, 2, &chunk)
                H5Pset_deflate(properties, 4)
            }
            if H5Lexists(id, name, vs_h5_default()) > 0 { H5Ldelete(id, name, vs_h5_default()) }
            let dataset = H5Dcreate2(id, name, type.fileType, space, vs_h5_default(), properties, vs_h5_default())
            guard dataset >= 0 else { throw VectorSearchError.io(path: path, reason: "cannot create dataset '\(name)'") }
            defer { H5Dclose(dataset) }
            if values.isEmpty { return }
            let status = values.withUnsafeBytes { H5Dwrite(dataset, memoryType, vs_h5_default(), vs_h5_default(), vs_h5_default(), $0.baseAddress) }
            guard status >= 0 else { throw VectorSearchError.io(path: path, reason: "cannot write dataset '\(name)'") }
        }
    }
}
