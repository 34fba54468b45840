// Fuzz targets: every reader of untrusted bytes gets arbitrary input and must either succeed or
// throw, never crash, hang or leak. VSFUZZ_TARGET picks one (scripts/fuzz.sh lists them).
import Foundation
@testable import VectorSearch
@testable import VectorSearchEmbeddings
import VectorSearchRAG

/// Where inputs that readers take by path are written (a RAM disk when there is one).
let scratchDirectory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = base + "/vsfuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// `data` in a file named `name` (its extension tells readers the format).
func file(_ name: String, _ data: UnsafeRawBufferPointer) -> String {
    let path = scratchDirectory + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(data))
    return path
}

/// A small WordPiece vocabulary for the tokenizer target.
let tokenizer: WordPieceTokenizer = {
    let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "##s", "##ing", "run", "swift", "é", "##é", "中", "!", "."]
    let path = scratchDirectory + "/vocab.txt"
    try! words.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return try! WordPieceTokenizer(vocabularyFile: path)
}()

/// `data` as an index file whose header and section checksums are made right, so that mutations
/// reach the loaders' structural checks instead of stopping at a checksum mismatch.
func sealed(_ data: UnsafeRawBufferPointer) -> [UInt8] {
    var bytes = Array(data)
    guard bytes.count >= IndexFile.headerSize else { return bytes }
    func crc(_ range: Range<Int>) -> [UInt8] {
        withUnsafeBytes(of: bytes.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[range])) }.littleEndian, Array.init)
    }
    bytes.replaceSubrange(44..<48, with: crc(0..<44))
    var offset = IndexFile.headerSize
    while offset + IndexFile.sectionHeaderSize <= bytes.count {
        let padding = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)) }
        let length = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self) }
        let start = offset + IndexFile.sectionHeaderSize + min(padding, IndexFile.pageAlignment)
        guard start <= bytes.count, length <= UInt64(bytes.count - start) else { break }
        bytes.replaceSubrange((offset + 16)..<(offset + 20), with: crc(start..<(start + Int(length))))
        offset = start + Int(length)
    }
    return bytes
}

/// The targets, by name.
let targets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "index": { data in _ = try? AnyIndex.load(from: file("input.vsidx", data)) },
    "index-sealed": { data in
        let bytes = sealed(data)
        _ = try? bytes.withUnsafeBytes { try AnyIndex.load(from: file("input.vsidx", $0)) }
    },
    // Mapped, the vector, code and link sections are used unchecked: searches and an add must
    // still never crash on what they hold.
    "index-mapped": { data in
        let bytes = sealed(data)
        guard let index = try? bytes.withUnsafeBytes({ try AnyIndex.load(from: file("input.vsidx", $0), mode: .mapped) }),
            index.dimension <= 4096
        else { return }
        let query = (0..<index.dimension).map { Float($0 % 7) - 3 }
        _ = try? index.search(query, k: 5, options: SearchOptions(ef: 16))
        _ = try? index.add(VectorMatrix(dimension: index.dimension, values: query), ids: [987_654_321])
        _ = try? index.search(query, k: 5, options: SearchOptions(ef: 16))
    },
    "fvecs": { data in _ = try? EmbeddingFile.read(file("input.fvecs", data)) },
    "bvecs": { data in _ = try? EmbeddingFile.read(file("input.bvecs", data)) },
    "ivecs": { data in _ = try? EmbeddingFile.readIntegers(file("input.ivecs", data)) },
    "fbin": { data in _ = try? EmbeddingFile.read(file("input.fbin", data)) },
    "npy": { data in _ = try? EmbeddingFile.read(file("input.npy", data)) },
    "jsonl": { data in _ = try? EmbeddingFile.read(file("input.jsonl", data)) },
    "metadata": { data in _ = try? MetadataFile.read(file("meta.jsonl", data), ids: [0, 1, 2, 3]) },
    "filter": { data in _ = try? Filter(json: String(decoding: data, as: UTF8.self)) },
    "safetensors": { data in _ = try? SafeTensorsFile(path: file("model.safetensors", data)) },
    "wordpiece": { data in _ = tokenizer.encode(String(decoding: data, as: UTF8.self), maxLength: 512) },
    "documents": { data in _ = try? DocumentFile.read(file("docs.jsonl", data)) },
    "beir": { data in
        let path = file("beir.jsonl", data)
        _ = try? BEIRDataset.readCorpus(path)
        _ = try? BEIRDataset.readQueries(path)
    },
    "qrels": { data in _ = try? BEIRDataset.readQrels(file("qrels.tsv", data), queries: ["q1", "q2"], documents: ["a", "b"]) },
    "configuration": { data in _ = try? EvaluationConfiguration(parsing: String(decoding: data, as: UTF8.self)) },
]

let target: @Sendable (UnsafeRawBufferPointer) -> Void = {
    let name = ProcessInfo.processInfo.environment["VSFUZZ_TARGET"] ?? ""
    guard let target = targets[name] else {
        FileHandle.standardError.write(Data("VSFUZZ_TARGET must be one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
