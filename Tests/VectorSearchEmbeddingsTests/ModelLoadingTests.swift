import CVectorKernels
import Foundation
import Testing
import TestSupport
@testable import VectorSearch
@testable import VectorSearchEmbeddings

/// Writes a safetensors file: the header JSON, then each tensor's raw bytes in order.
private func writeSafeTensors(_ path: String, _ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) throws {
    var header: [String] = []
    var data: [UInt8] = []
    for tensor in tensors {
        header.append(
            "\"\(tensor.name)\":{\"dtype\":\"\(tensor.dtype)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(data.count),\(data.count + tensor.bytes.count)]}")
        data += tensor.bytes
    }
    let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
    var file = withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init)
    file += json + data
    try Data(file).write(to: URL(fileURLWithPath: path))
}

private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes(Array.init) }

/// A copy of the model directory (files linked, not copied) with some files replaced.
private func modelCopy(replacing files: [String: Data] = [:], dropping dropped: [String] = []) throws -> URL {
    let source = URL(fileURLWithPath: SentenceEmbedder.defaultDirectory)
    let copy = URL(fileURLWithPath: temporaryDirectory())
    for name in [
        "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
        "sentence_bert_config.json", "modules.json", "1_Pooling",
    ] where !dropped.contains(name) {
        try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
    }
    for (name, data) in files {
        try? FileManager.default.removeItem(at: copy.appendingPathComponent(name))
        try data.write(to: copy.appendingPathComponent(name))
    }
    return copy
}

private func config(_ change: (inout [String: Any]) -> Void) throws -> Data {
    let path = URL(fileURLWithPath: SentenceEmbedder.defaultDirectory).appendingPathComponent("config.json")
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
    change(&object)
    return try JSONSerialization.data(withJSONObject: object)
}

private func loadError(_ directory: URL) -> EmbeddingModelError? {
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
        _ = try SentenceEmbedder(directory: directory.path)
        return nil
    } catch let error as EmbeddingModelError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite("Model loading and kernels")
struct ModelLoadingTests {
    @Test("GELU (with and without a bias) and softmax kernels match float64 references, any length")
    func activations() {
        typealias Gelu = (UnsafeMutablePointer<Float>?, Int, Int, UnsafePointer<Float>?) -> Void
        let gelus: [Gelu] = [vs_gelu_erf, vs_gelu_erf_portable]
        // 59 rows of 17 columns (not a multiple of 8), values -10.02 ... 10.02 before the bias.
        let (rows, columns) = (59, 17)
        let bias: [Float] = (0..<columns).map { Float($0) / 8 - 1 }
        for kernel in gelus {
            for withBias in [false, true] {
                var x: [Float] = (0..<(rows * columns)).map { Float($0 - 501) / 50 }
                let reference: [Double] = x.indices.map { i in
                    let z = Double(x[i]) + (withBias ? Double(bias[i % columns]) : 0)
                    return 0.5 * z * (1 + erf(z / 2.0.squareRoot()))
                }
                if withBias { bias.withUnsafeBufferPointer { kernel(&x, rows, columns, $0.baseAddress) } } else { kernel(&x, rows, columns, nil) }
                for (got, want) in zip(x, reference) {
                    let tolerance = 1e-6 * max(1, abs(want))
                    #expect(abs(Double(got) - want) <= tolerance, "gelu (bias \(withBias)): \(got) vs \(want)")
                }
            }
        }
        typealias Kernel = (UnsafeMutablePointer<Float>?, Int) -> Void
        let softmaxes: [Kernel] = [vs_softmax, vs_softmax_portable]
        for kernel in softmaxes {
            for n in [1, 7, 8, 9, 300] {
                var x: [Float] = (0..<n).map { i in Float((i * 37) % 23) - 11 + (i == 3 ? 60 : 0) }
                let top = Double(x.max()!)
                let weights: [Double] = x.map { exp(Double($0) - top) }
                let sum = weights.reduce(0, +)
                kernel(&x, n)
                for (got, weight) in zip(x, weights) {
                    let want = weight / sum
                    #expect(abs(Double(got) - want) <= 1e-6 * max(want, 1e-3), "softmax n=\(n): \(got) vs \(want)")
                }
            }
        }
        var empty: [Float] = []
        vs_softmax(&empty, 0)
    }

    @Test("dense layers (bias, residual apart or in place, GELU), through BLAS and the packed kernel, equal a float64 reference, any shape")
    func denseLayers() {
        enum Residual { case none, apart, inPlace }
        let cases: [(bias: Bool, residual: Residual, gelu: Bool)] = [
            (false, .none, false), (true, .none, false), (true, .apart, false), (true, .inPlace, false),
            (false, .inPlace, false), (true, .none, true),
        ]
        // Rows around the 14-row tile, outputs around the 32-column panel, inputs around the 256 block.
        for (rows, outputs, inputs) in [(1, 1, 1), (13, 31, 7), (14, 32, 256), (15, 33, 257), (29, 100, 600), (3, 64, 1536), (0, 32, 8)] {
            var random = SplitMix64(seed: UInt64(rows * 1_000_003 + outputs * 1_009 + inputs))
            func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1..<1, using: &random) } }
            let w = values(outputs * inputs), biasValues = values(outputs)
            // One spare element past the rows keeps the buffers non-empty and catches writes past the end.
            let x = values(rows * inputs + 1), start = values(rows * outputs + 1), apart = values(rows * outputs + 1)
            let bias = Tensor(widening: outputs) { biasValues[$0] }
            for packing in [false, true] {
                let weight = DenseWeight(Tensor(widening: w.count) { w[$0] }, outputs: outputs, inputs: inputs, packing: packing)
                for c in cases {
                    var out = start
                    x.withUnsafeBufferPointer { x in
                        apart.withUnsafeBufferPointer { apart in
                            out.withUnsafeMutableBufferPointer { out in
                                let residual: UnsafePointer<Float>? =
                                    switch c.residual {
                                    case .none: nil
                                    case .apart: apart.baseAddress!
                                    case .inPlace: UnsafePointer(out.baseAddress!)
                                    }
                                weight.apply(
                                    x.baseAddress!, rows: rows, bias: c.bias ? bias : nil, residual: residual, gelu: c.gelu,
                                    into: out.baseAddress!)
                            }
                        }
                    }
                    #expect(out[rows * outputs] == start[rows * outputs], "wrote past the last row")
                    for r in 0..<rows {
                        for o in 0..<outputs {
                            var want = c.bias ? Double(biasValues[o]) : 0
                            switch c.residual {
                            case .none: break
                            case .apart: want += Double(apart[r * outputs + o])
                            case .inPlace: want += Double(start[r * outputs + o])
                            }
                            for i in 0..<inputs { want += Double(x[r * inputs + i]) * Double(w[o * inputs + i]) }
                            if c.gelu { want = 0.5 * want * (1 + erf(want / 2.0.squareRoot())) }
                            let got = out[r * outputs + o]
                            #expect(
                                abs(Double(got) - want) <= 2e-6 * Double(inputs + 1).squareRoot() + 1e-6 * abs(want),
                                "\(rows)×\(outputs)×\(inputs) packing \(packing) \(c) [\(r), \(o)]: \(got) vs \(want)")
                        }
                    }
                }
            }
        }
    }

    @Test("batches hold at most batchSize texts and 1,024 tokens (a longer text alone), in order")
    func batching() {
        // Lengths as sorted for embedding: many short texts, then long ones, one over the budget.
        let lengths = Array(repeating: 23, count: 300) + Array(repeating: 200, count: 40) + [1_500]
        let sequences = lengths.map { [Int32](repeating: 7, count: $0) }
        let order = Array(sequences.indices)
        for batchSize in [1, 32, 128, 1_000] {
            let batches = SentenceEmbedder.batches(order, sequences: sequences, batchSize: batchSize)
            #expect(batches.flatMap { $0 } == order, "every text once, in order (batch \(batchSize))")
            for batch in batches {
                let tokens = batch.reduce(0) { $0 + lengths[$1] }
                #expect(
                    batch.count <= batchSize && (tokens <= SentenceEmbedder.maxBatchTokens || batch.count == 1),
                    "batch \(batchSize): \(batch.count) texts, \(tokens) tokens")
            }
        }
        // Batch 128 of short texts is cut by tokens: 1,024 / 23 = 44 texts a pass.
        #expect(SentenceEmbedder.batches(order, sequences: sequences, batchSize: 128).first?.count == 44)
    }

    @Test("safetensors: F32 in place, F16 and BF16 widened, bad files named with their tensor")
    func safeTensors() throws {
        let directory = URL(fileURLWithPath: temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("w.safetensors").path
        let values: [Float] = [1, -2.5, 0.125, 65504]
        try writeSafeTensors(
            path,
            [
                ("f32", "F32", [2, 2], bytes(values)),
                ("f16", "F16", [4], bytes(values.map { Float16($0).bitPattern })),
                ("bf16", "BF16", [4], bytes(values.map { UInt16($0.bitPattern >> 16) })),
                ("ints", "I32", [2], bytes([Int32(1), 2])),
            ])
        let file = try SafeTensorsFile(path: path)
        for name in ["f32", "f16"] {
            let tensor = try file.tensor(name, shape: name == "f32" ? [2, 2] : [4])
            #expect(Array(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count)) == values)
        }
        let bf16 = try file.tensor("bf16", shape: [4])
        #expect(Array(UnsafeBufferPointer(start: bf16.pointer, count: 3)) == [1, -2.5, 0.125])
        #expect(throws: EmbeddingModelError.wrongShape(path: path, tensor: "f32", expected: [4], actual: [2, 2])) {
            try file.tensor("f32", shape: [4])
        }
        #expect(throws: EmbeddingModelError.missingTensor(path: path, tensor: "nope")) { try file.tensor("nope", shape: [1]) }
        do {
            _ = try file.tensor("ints", shape: [2])
            Issue.record("an I32 tensor was accepted")
        } catch let error as EmbeddingModelError {
            #expect(error.description.contains(path) && error.description.contains("ints") && error.description.contains("I32"))
        }
        // Truncated: the header promises more bytes than the file has; a header cut short; garbage.
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        for (cut, expectation) in [(whole.count - 3, "ints"), (20, "header"), (4, "truncated")] {
            try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
            #expect(throws: EmbeddingModelError.self) { try SafeTensorsFile(path: path) }
            do { _ = try SafeTensorsFile(path: path) } catch {
                #expect("\(error)".contains(path) && "\(error)".contains(expectation), "\(error)")
            }
        }
        try Data(withUnsafeBytes(of: UInt64(8).littleEndian, Array.init) + Array("not json".utf8)).write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbeddingModelError.malformed(path: path, reason: "safetensors header is not a JSON object")) {
            try SafeTensorsFile(path: path)
        }
        // Found by fuzzing (scripts/fuzz.sh safetensors): numbers too large for Int trapped.
        func header(_ json: String, length: UInt64? = nil, data: Int = 0) -> Data {
            Data(withUnsafeBytes(of: (length ?? UInt64(json.utf8.count)).littleEndian, Array.init) + Array(json.utf8))
                + Data(count: data)
        }
        for bytes in [
            header("{}", length: UInt64.max), header("{}", length: 1 << 63),
            header(#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 9223372036854775807]}}"#, data: 8),
            header(#"{"t": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, data: 8),
            header(#"{"t": {"dtype": "F32", "shape": [9223372036854775807, 9223372036854775807], "data_offsets": [0, 8]}}"#, data: 8),
        ] {
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(throws: EmbeddingModelError.self) { try SafeTensorsFile(path: path) }
        }
    }

    @Test("a missing model says how to fetch it; damaged model files name the file and tensor")
    func damagedModels() throws {
        let missing = "/nonexistent/model-\(UUID().uuidString)"
        #expect(throws: EmbeddingModelError.missingFile(path: missing)) { try SentenceEmbedder(directory: missing) }
        #expect(EmbeddingModelError.missingFile(path: missing).description.contains("scripts/fetch-model.sh"))
        guard FileManager.default.fileExists(atPath: SentenceEmbedder.defaultDirectory) else {
            Issue.record("no model at \(SentenceEmbedder.defaultDirectory); run scripts/fetch-model.sh")
            return
        }
        let relu = loadError(try modelCopy(replacing: ["config.json": try config { $0["hidden_act"] = "relu" }]))
        #expect(relu.map { "\($0)".contains("config.json") && "\($0)".contains("relu") } == true, "\(String(describing: relu))")
        let gpt = loadError(
            try modelCopy(replacing: [
                "config.json": try config {
                    $0["architectures"] = ["GPT2Model"]; $0["model_type"] = "gpt2"
                }
            ]))
        #expect(gpt.map { "\($0)".contains("GPT2Model") } == true, "\(String(describing: gpt))")
        let shape = loadError(try modelCopy(replacing: ["config.json": try config { $0["intermediate_size"] = 1535 }]))
        if case let .wrongShape(path, tensor, expected, actual)? = shape {
            #expect(path.hasSuffix("model.safetensors") && tensor == "encoder.layer.0.intermediate.dense.weight")
            #expect(expected == [1535, 384] && actual == [1536, 384])
        } else {
            Issue.record("expected wrongShape, got \(String(describing: shape))")
        }
        let layers = loadError(try modelCopy(replacing: ["config.json": try config { $0["num_hidden_layers"] = 7 }]))
        if case let .missingTensor(_, tensor)? = layers {
            #expect(tensor.hasPrefix("encoder.layer.6."))
        } else {
            Issue.record("expected missingTensor, got \(String(describing: layers))")
        }
        let weights = try Data(contentsOf: URL(fileURLWithPath: SentenceEmbedder.defaultDirectory).appendingPathComponent("model.safetensors"))
        let truncated = loadError(try modelCopy(replacing: ["model.safetensors": weights.prefix(weights.count / 2)]))
        #expect(
            truncated.map { "\($0)".contains("model.safetensors") && "\($0)".contains("truncated") && "\($0)".contains("tensor") } == true,
            "\(String(describing: truncated))")
        let noVocab = loadError(try modelCopy(dropping: ["vocab.txt"]))
        #expect(noVocab.map { if case let .missingFile(path) = $0 { path.hasSuffix("vocab.txt") } else { false } } == true)
        let badJSON = loadError(try modelCopy(replacing: ["config.json": Data("{\"hidden_size\": ".utf8)]))
        #expect(badJSON.map { if case let .malformed(path, _) = $0 { path.hasSuffix("config.json") } else { false } } == true)
        let pooling = loadError(try modelCopy(replacing: ["1_Pooling": Data()], dropping: ["1_Pooling"]))
        #expect(pooling != nil)
    }

    @Test("a model stored as float16 loads by its file alone and agrees with float32 to f16 precision")
    func float16Model() throws {
        guard FileManager.default.fileExists(atPath: SentenceEmbedder.defaultDirectory) else {
            Issue.record("no model at \(SentenceEmbedder.defaultDirectory); run scripts/fetch-model.sh")
            return
        }
        let original = try SafeTensorsFile(path: URL(fileURLWithPath: SentenceEmbedder.defaultDirectory).appendingPathComponent("model.safetensors").path)
        let directory = URL(fileURLWithPath: temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: directory) }
        let converted = directory.appendingPathComponent("model.safetensors")
        // Every float tensor halved; others (position_ids, I64, unused) left out.
        let floats = original.entries.keys.sorted().filter { original.entries[$0]!.dtype == "F32" }
        try writeSafeTensors(
            converted.path,
            try floats.map { name in
                let entry = original.entries[name]!
                let tensor = try original.tensor(name, shape: entry.shape)
                let halves = UnsafeBufferPointer(start: tensor.pointer, count: tensor.count).map { Float16($0).bitPattern }
                return (name, "F16", entry.shape, bytes(halves))
            })
        let model = try modelCopy(replacing: ["model.safetensors": try Data(contentsOf: converted)])
        defer { try? FileManager.default.removeItem(at: model) }
        let half = try SentenceEmbedder(directory: model.path)
        let full = try SentenceEmbedder()
        let text = "Half-precision weights widen to float32 once, at load."
        let a = half.embed(text), b = full.embed(text)
        let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
        #expect(dot > 0.999, "cosine \(dot)")
    }
}
