import Foundation
import Testing
import TestSupport
@testable import VectorSearch

@Suite("Metadata files")
struct MetadataFileTests {
    func write(_ text: String, _ directory: String) -> String {
        let path = directory + "/meta.jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test("lines go with vectors in order; every value type; null and blank lines")
    func inOrder() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let path = write(
            """
            {"lang": "en", "year": 2021, "score": 0.5, "ok": true, "tags": ["a", "b"]}

            {"lang": null, "year": -3}
            {}
            """, dir)
        let attributes = try MetadataFile.read(path, ids: [7, 8, 9])
        #expect(
            attributes == [
                ["lang": "en", "year": 2021, "score": 0.5, "ok": true, "tags": ["a", "b"]],
                ["year": -3],
                [:],
            ])
    }

    @Test("lines that all carry an id match vectors by id, in any order")
    func byID() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let path = write(#"{"id": 9, "n": 3}"# + "\n" + #"{"id": 7, "n": 1}"# + "\n" + #"{"n": 2, "id": 8}"# + "\n", dir)
        #expect(try MetadataFile.read(path, ids: [7, 8, 9]) == [["n": 1], ["n": 2], ["n": 3]])
        #expect(try MetadataFile.read(path, ids: [9]) == [["n": 3]])
        #expect(throws: VectorSearchError.malformedFile(path: path, row: nil, byteOffset: nil, reason: #"no line with "id": 10"#)) {
            try MetadataFile.read(path, ids: [7, 10])
        }
    }

    @Test("bad files name the line and the problem")
    func errors() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let twoLines = write(#"{"a": 1}"# + "\n" + #"{"a": 2}"# + "\n", dir)
        #expect(
            throws: VectorSearchError.malformedFile(
                path: twoLines, row: nil, byteOffset: nil,
                reason: #"2 metadata lines for 3 vectors (give every line an "id" to match them by id)"#)
        ) {
            try MetadataFile.read(twoLines, ids: [0, 1, 2])
        }

        let badJSON = write(#"{"a": 1}"# + "\n" + #"{"a": }"# + "\n", dir)
        let error = try #require(throws: VectorSearchError.self) { try MetadataFile.read(badJSON, ids: [0, 1]) }
        guard case let .malformedFile(_, row, byteOffset, reason) = error else { Issue.record("\(error)"); return }
        #expect(row == 1 && byteOffset == 9 && reason.hasPrefix("line 2: not valid JSON"))

        let notObject = write("[1, 2]\n", dir)
        #expect(throws: VectorSearchError.malformedFile(path: notObject, row: 0, byteOffset: 0, reason: "line 1: not a JSON object")) {
            try MetadataFile.read(notObject, ids: [0])
        }

        let nested = write(#"{"a": {"b": 1}}"# + "\n", dir)
        let nestedError = try #require(throws: VectorSearchError.self) { try MetadataFile.read(nested, ids: [0]) }
        #expect("\(nestedError)".contains("line 1") && "\(nestedError)".contains("a"))

        let twice = write(#"{"id": 1}"# + "\n" + #"{"id": 1}"# + "\n", dir)
        #expect(throws: VectorSearchError.malformedFile(path: twice, row: 1, byteOffset: nil, reason: "id 1 appears twice")) {
            try MetadataFile.read(twice, ids: [1, 2])
        }

        #expect(throws: VectorSearchError.self) { try MetadataFile.read(dir + "/missing.jsonl", ids: [0]) }
    }

    @Test("a field with values of two types is refused when added, naming the row")
    func mixedTypes() throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        let path = write(#"{"year": 2020}"# + "\n" + #"{"year": "2021"}"# + "\n", dir)
        let attributes = try MetadataFile.read(path, ids: [0, 1])
        let index = try FlatIndex(dimension: 2, metric: .l2)
        let error = try #require(throws: VectorSearchError.self) {
            try index.add(rows([[1, 0], [0, 1]]), ids: [0, 1], attributes: attributes)
        }
        guard case let .invalidAttributes(row, _) = error else { Issue.record("\(error)"); return }
        #expect(row == 1)
        #expect(index.count == 0)
    }

    @Test("metadata as JSON text: every value type round-trips, keys sorted; JSONEncoder's form reads too")
    func jsonText() throws {
        let attributes: Attributes = [
            "year": .int(2024), "score": .double(2.0), "tiny": .double(5e-324), "big": .double(-1.5e300), "ok": .bool(false),
            "title": .string("quote \" backslash \\ tab \t é 🙂 \u{1}"), "tags": .strings(["a", "b/c"]), "none": .strings([]),
        ]
        let text = attributes.jsonText
        #expect(text.hasPrefix(#"{"big":"#) && text.contains(#""score":2.0"#))
        #expect(try Attributes(jsonText: text) == attributes)
        #expect(try Attributes(jsonText: "{}") == [:])
        // What collections stored before (Foundation's JSONEncoder: 2.0 written as 2, read as an integer).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let old = String(decoding: try encoder.encode(attributes), as: UTF8.self)
        var expected = attributes
        expected["score"] = .int(2)
        #expect(try Attributes(jsonText: old) == expected)
        #expect(throws: (any Error).self) { try Attributes(jsonText: "[1]") }
        #expect(throws: (any Error).self) { try Attributes(jsonText: #"{"a": {"b": 1}}"#) }
        #expect(throws: (any Error).self) { try Attributes(jsonText: #"{"a": 1"#) }
    }
}
