import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("Index file format")
struct IndexFileTests {
    func savedIndex(_ directory: String) throws -> (path: String, bytes: [UInt8]) {
        let index = try FlatIndex(dimension: 5, metric: .l2)
        try index.add(randomMatrix(rows: 10, dimension: 5, seed: 1))
        let path = directory + "/index.vsidx"
        try index.save(to: path)
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func loadError(_ bytes: [UInt8], _ directory: String) -> VectorSearchError? {
        let path = directory + "/damaged.vsidx"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try FlatIndex.load(from: path)
            return nil
        } catch let error as VectorSearchError {
            return error
        } catch {
            return .invalidArgument("unexpected error \(error)")
        }
    }

    /// Rewrites the header checksum after a deliberate header change.
    func resealHeader(_ bytes: inout [UInt8]) {
        let crc = bytes.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<44])) }
        bytes.replaceSubrange(44..<48, with: littleEndianBytes(crc))
    }

    /// `bytes` (a version 3 file) as the same index in an earlier version's layout: each
    /// section header followed directly by its payload.
    static func unpadded(_ bytes: [UInt8], version: UInt32) -> [UInt8] {
        var out = Array(bytes[0..<48])
        out.replaceSubrange(8..<12, with: littleEndianBytes(version))
        var offset = 48
        while offset < bytes.count {
            let padding = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)) }
            let length = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)) }
            var header = Array(bytes[offset..<(offset + 24)])
            header.replaceSubrange(4..<8, with: [0, 0, 0, 0])
            out += header + bytes[(offset + 24 + padding)..<(offset + 24 + padding + length)]
            offset += 24 + padding + length
        }
        let crc = out.withUnsafeBytes { IndexFile.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<44])) }
        out.replaceSubrange(44..<48, with: littleEndianBytes(crc))
        return out
    }

    @Test("CRC-32 is the standard (zlib) one")
    func crc() {
        let bytes = Array("123456789".utf8)
        #expect(bytes.withUnsafeBytes { IndexFile.crc32($0) } == 0xCBF4_3926)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        let whole = long.withUnsafeBytes { IndexFile.crc32($0) }
        let split = long.withUnsafeBytes { raw in
            crc32Continuing(IndexFile.crc32(UnsafeRawBufferPointer(rebasing: raw[0..<333])), UnsafeRawBufferPointer(rebasing: raw[333...]))
        }
        #expect(whole == split)
    }

    @Test("header layout: magic, version, kind, metric, dimension, count")
    func layout() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let (_, bytes) = try savedIndex(directory)
        #expect(Array(bytes[0..<8]) == Array("VSINDEX\0".utf8))
        #expect(Array(bytes[8..<12]) == littleEndianBytes(UInt32(3)))
        #expect(Array(bytes[12..<16]) == Array("FLAT".utf8))
        #expect(Array(bytes[20..<24]) == littleEndianBytes(UInt32(5)))
        #expect(Array(bytes[24..<32]) == littleEndianBytes(UInt64(10)))
        #expect(Array(bytes[48..<52]) == Array("IDS ".utf8))
        // IDS payload from 128 (64-byte aligned) to 208, VECS header, then its payload on a page.
        #expect(Array(bytes[52..<56]) == littleEndianBytes(UInt32(128 - 72)))
        #expect(Array(bytes[208..<212]) == Array("VECS".utf8))
        #expect(Array(bytes[212..<216]) == littleEndianBytes(UInt32(4096 - 232)))
        #expect(bytes.count == 4096 + 10 * 5 * 4)
    }

    @Test("damaged files give clear errors")
    func damage() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let (_, bytes) = try savedIndex(directory)
        let path = directory + "/damaged.vsidx"

        var flipped = bytes
        flipped[bytes.count - 3] ^= 0x40
        #expect(loadError(flipped, directory) == .corruptIndex(path: path, reason: "checksum mismatch in section 'VECS'"))

        var header = bytes
        header[20] ^= 1
        #expect(loadError(header, directory) == .corruptIndex(path: path, reason: "header checksum mismatch"))

        #expect(
            loadError(Array(bytes[0..<(bytes.count - 10)]), directory)
                == .corruptIndex(path: path, reason: "truncated: section 'VECS' needs 4064 bytes, 4054 remain"))
        #expect(
            loadError(Array(bytes[0..<60]), directory)
                == .corruptIndex(
                    path: path, reason: "truncated or damaged: the header claims 10 vectors of dimension 5, more than the file's 60 bytes hold"))
        #expect(
            loadError(Array(bytes[0..<250]), directory)
                == .corruptIndex(path: path, reason: "truncated: section 'VECS' needs 4064 bytes, 18 remain"))
        #expect(loadError(Array(bytes[0..<20]), directory) == .corruptIndex(path: path, reason: "truncated header (20 bytes)"))
        var huge = bytes  // a length that overflows once the padding is added: reported, not a trap
        huge.replaceSubrange(216..<224, with: littleEndianBytes(UInt64.max - 10))
        #expect(
            loadError(huge, directory)
                == .corruptIndex(path: path, reason: "truncated: section 'VECS' needs \(UInt64.max) bytes, \(bytes.count - 232) remain"))
        #expect(loadError([], directory) == .corruptIndex(path: path, reason: "file of 0 bytes is too short for an index header"))
        #expect(loadError(Array(repeating: 7, count: 100), directory) == .corruptIndex(path: path, reason: "not a VectorSearch index (bad magic)"))
        #expect(loadError(bytes + [0, 0], directory) == .corruptIndex(path: path, reason: "2 unexpected bytes after the last section"))

        var newer = bytes
        newer.replaceSubrange(8..<12, with: littleEndianBytes(UInt32(4)))
        resealHeader(&newer)
        #expect(loadError(newer, directory) == .unsupportedFormatVersion(path: path, found: 4, supported: 3))

        // Versions 1 and 2 had the same sections without padding (1: without metadata either).
        for version in [UInt32(1), 2] {
            #expect(loadError(Self.unpadded(bytes, version: version), directory) == nil)
        }
        var padded = bytes  // padding is only for version 3 on
        padded.replaceSubrange(8..<12, with: littleEndianBytes(UInt32(2)))
        resealHeader(&padded)
        #expect(loadError(padded, directory) == .corruptIndex(path: path, reason: "section 'IDS ' has a bad padding length 56"))

        var otherKind = bytes
        otherKind.replaceSubrange(12..<16, with: Array("HNSW".utf8))
        resealHeader(&otherKind)
        #expect(loadError(otherKind, directory) == .wrongIndexKind(path: path, expected: "flat", found: "hnsw"))

        var unknownKind = bytes
        unknownKind.replaceSubrange(12..<16, with: Array("ABCD".utf8))
        resealHeader(&unknownKind)
        #expect(loadError(unknownKind, directory) == .corruptIndex(path: path, reason: "unknown index kind 'ABCD'"))

        var badMetric = bytes
        badMetric[16] = 9
        resealHeader(&badMetric)
        #expect(loadError(badMetric, directory) == .corruptIndex(path: path, reason: "unknown metric code 9"))

        var wrongCount = bytes
        wrongCount[24] = 11
        resealHeader(&wrongCount)
        #expect(loadError(wrongCount, directory) == .corruptIndex(path: path, reason: "section 'IDS ' holds 80 bytes, expected 88"))

        #expect(throws: VectorSearchError.io(path: directory + "/missing", reason: "No such file or directory")) {
            try FlatIndex.load(from: directory + "/missing")
        }
    }

    @Test("a valid file with invalid contents is refused")
    func invalidContents() throws {
        let directory = temporaryDirectory()
        defer { cleanup(directory) }
        let index = try FlatIndex(dimension: 2, metric: .l2)
        try index.add(VectorMatrix([[1, 2], [3, 4]]), ids: [1, 2])
        let path = directory + "/x.vsidx"
        try index.save(to: path)
        // Write a file whose checksums are right but whose ids repeat.
        let header = IndexFile.Header(kind: .flat, metric: .l2, dimension: 2, count: 2, sectionCount: 2)
        let writer = try IndexFileWriter(path: path, header: header)
        try writer.writeSection("IDS ", [VectorID(1), VectorID(1)])
        try writer.writeSection("VECS", [Float(1), 2, 3, 4])
        try writer.commit()
        #expect(throws: VectorSearchError.corruptIndex(path: path, reason: "duplicate ids")) { try FlatIndex.load(from: path) }
    }

    @Test("saving into a missing directory fails cleanly")
    func unwritable() throws {
        let index = try FlatIndex(dimension: 2, metric: .l2)
        #expect(throws: VectorSearchError.self) { try index.save(to: "/nonexistent-dir/x.vsidx") }
    }
}

private func crc32Continuing(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    vs_crc32(crc, bytes.baseAddress, bytes.count)
}

import CVectorKernels
