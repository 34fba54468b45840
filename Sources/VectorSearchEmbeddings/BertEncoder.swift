import CVectorKernels
import VectorSearch

/// The sizes of a BERT encoder, from a Hugging Face `config.json`.
public struct BertConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    /// Reads and checks `config.json`: a BERT model (`BertModel` or `model_type` "bert"), exact
    /// GELU, absolute positions, a hidden size that divides into its heads.
    init(json: [String: JSONValue], path: String) throws {
        func integer(_ key: String) throws -> Int {
            guard let value = json[key]?.int, value > 0 else {
                throw EmbeddingModelError.malformed(path: path, reason: "\(key) is missing or not a positive integer")
            }
            return value
        }
        let architectures = json["architectures"]?.array?.compactMap(\.string) ?? []
        let modelType = json["model_type"]?.string
        guard modelType == "bert" || architectures.contains(where: { $0.hasPrefix("Bert") }) else {
            throw EmbeddingModelError.unsupported(
                path: path, reason: "architecture \(architectures.first ?? modelType ?? "unknown"); this encoder runs BERT models")
        }
        let activation = json["hidden_act"]?.string ?? "gelu"
        guard activation == "gelu" else {
            throw EmbeddingModelError.unsupported(path: path, reason: "hidden_act \"\(activation)\"; only exact \"gelu\" is implemented")
        }
        if let positions = json["position_embedding_type"]?.string, positions != "absolute" {
            throw EmbeddingModelError.unsupported(path: path, reason: "position_embedding_type \"\(positions)\"; only \"absolute\" is implemented")
        }
        vocabularySize = try integer("vocab_size")
        hiddenSize = try integer("hidden_size")
        layerCount = try integer("num_hidden_layers")
        headCount = try integer("num_attention_heads")
        intermediateSize = try integer("intermediate_size")
        maxPositions = try integer("max_position_embeddings")
        typeVocabularySize = json["type_vocab_size"]?.int ?? 2
        layerNormEpsilon = Float(json["layer_norm_eps"]?.double ?? 1e-12)
        guard hiddenSize % headCount == 0 else {
            throw EmbeddingModelError.malformed(path: path, reason: "hidden_size \(hiddenSize) does not divide into \(headCount) attention heads")
        }
    }

    var headSize: Int { hiddenSize / headCount }
}

/// A BERT encoder's forward pass over float32 weights, every large product one matrix-product
/// call (the dense layers through `DenseWeight`, attention through sgemm).
///
/// The tokens of a batch are packed one sequence after another with no padding: the dense
/// layers run over all of them at once (one tall matrix product each), and attention runs per
/// sequence over its own tokens only, which is what a padding mask computes, without the work.
struct BertEncoder: Sendable {
    struct Layer: Sendable {
        /// Query, key and value stacked into one [3h, h] weight (and [3h] bias), so one product
        /// computes all three.
        var queryKeyValue: DenseWeight, queryKeyValueBias: Tensor
        var attentionOutput: DenseWeight, attentionOutputBias, attentionNormWeight, attentionNormBias: Tensor
        var intermediate: DenseWeight, intermediateBias: Tensor, output: DenseWeight
        var outputBias, outputNormWeight, outputNormBias: Tensor
    }

    let configuration: BertConfiguration
    let wordEmbeddings, positionEmbeddings, typeEmbeddings, embeddingNormWeight, embeddingNormBias: Tensor
    let layers: [Layer]

    init(configuration: BertConfiguration, weights: SafeTensorsFile) throws {
        self.configuration = configuration
        let h = configuration.hiddenSize, i = configuration.intermediateSize
        // Checkpoints saved from a task model (BertForMaskedLM, ...) prefix every name with "bert.";
        // old TensorFlow conversions call LayerNorm's parameters gamma and beta.
        let prefix =
            weights.entries["embeddings.word_embeddings.weight"] == nil
                && weights.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            try weights.tensor(prefix + name, shape: shape)
        }
        func norm(_ name: String) throws -> (Tensor, Tensor) {
            if weights.entries[prefix + name + ".weight"] == nil, weights.entries[prefix + name + ".gamma"] != nil {
                return (try tensor(name + ".gamma", [h]), try tensor(name + ".beta", [h]))
            }
            return (try tensor(name + ".weight", [h]), try tensor(name + ".bias", [h]))
        }
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [configuration.vocabularySize, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [configuration.maxPositions, h])
        typeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [configuration.typeVocabularySize, h])
        (embeddingNormWeight, embeddingNormBias) = try norm("embeddings.LayerNorm")
        layers = try (0..<configuration.layerCount).map { l in
            let p = "encoder.layer.\(l)."
            let (attentionNormWeight, attentionNormBias) = try norm(p + "attention.output.LayerNorm")
            let (outputNormWeight, outputNormBias) = try norm(p + "output.LayerNorm")
            let parts = try ["query", "key", "value"].map { part in
                (try tensor(p + "attention.self.\(part).weight", [h, h]), try tensor(p + "attention.self.\(part).bias", [h]))
            }
            return Layer(
                queryKeyValue: DenseWeight(Tensor(concatenating: parts.map(\.0)), outputs: 3 * h, inputs: h),
                queryKeyValueBias: Tensor(concatenating: parts.map(\.1)),
                attentionOutput: DenseWeight(try tensor(p + "attention.output.dense.weight", [h, h]), outputs: h, inputs: h),
                attentionOutputBias: try tensor(p + "attention.output.dense.bias", [h]),
                attentionNormWeight: attentionNormWeight, attentionNormBias: attentionNormBias,
                intermediate: DenseWeight(try tensor(p + "intermediate.dense.weight", [i, h]), outputs: i, inputs: h),
                intermediateBias: try tensor(p + "intermediate.dense.bias", [i]),
                output: DenseWeight(try tensor(p + "output.dense.weight", [h, i]), outputs: h, inputs: i),
                outputBias: try tensor(p + "output.dense.bias", [h]),
                outputNormWeight: outputNormWeight, outputNormBias: outputNormBias)
        }
    }

    /// Working memory for one batch at a time; one per worker thread, grown as batches need.
    final class Scratch {
        private(set) var capacity = 0  // tokens
        private(set) var longest = 0  // tokens of one sequence
        var hidden, queryKeyValue, context, sum, intermediate: UnsafeMutablePointer<Float>
        var scores: UnsafeMutablePointer<Float>

        init() {
            hidden = .allocate(capacity: 1); queryKeyValue = .allocate(capacity: 1); context = .allocate(capacity: 1)
            sum = .allocate(capacity: 1); intermediate = .allocate(capacity: 1); scores = .allocate(capacity: 1)
        }

        func reserve(tokens: Int, longest sequence: Int, hiddenSize h: Int, intermediateSize i: Int) {
            if tokens > capacity {
                for buffer in [hidden, queryKeyValue, context, sum, intermediate] { buffer.deallocate() }
                capacity = tokens
                hidden = .allocate(capacity: tokens * h); queryKeyValue = .allocate(capacity: tokens * 3 * h)
                context = .allocate(capacity: tokens * h); sum = .allocate(capacity: tokens * h)
                intermediate = .allocate(capacity: tokens * i)
            }
            if sequence > longest {
                scores.deallocate()
                longest = sequence
                scores = .allocate(capacity: sequence * sequence)
            }
        }

        deinit {
            for buffer in [hidden, queryKeyValue, context, sum, scores, intermediate] { buffer.deallocate() }
        }
    }

    /// Runs the encoder over `sequences` (token ids, each at most `maxPositions` long) and
    /// leaves the last hidden states, packed, in `scratch.hidden`: sequence s's tokens start at
    /// row Σ_{r<s} count(r). Returns those start rows.
    func forward(_ sequences: [[Int32]], scratch: Scratch) -> [Int] {
        let c = configuration
        let h = c.hiddenSize, inner = c.intermediateSize
        var starts: [Int] = []
        starts.reserveCapacity(sequences.count)
        var tokens = 0
        for sequence in sequences {
            precondition(sequence.count <= c.maxPositions, "sequence longer than the model's positions")
            starts.append(tokens)
            tokens += sequence.count
        }
        guard tokens > 0 else { return starts }
        scratch.reserve(tokens: tokens, longest: sequences.map(\.count).max() ?? 0, hiddenSize: h, intermediateSize: inner)

        // Embeddings: word + position + token type 0, then LayerNorm.
        for (s, sequence) in sequences.enumerated() {
            for (position, id) in sequence.enumerated() {
                let row = scratch.hidden + (starts[s] + position) * h
                let word = wordEmbeddings.pointer + Int(min(max(id, 0), Int32(c.vocabularySize - 1))) * h
                let place = positionEmbeddings.pointer + position * h
                let type = typeEmbeddings.pointer
                for j in 0..<h { row[j] = word[j] + place[j] + type[j] }
            }
        }
        layerNorm(scratch.hidden, rows: tokens, weight: embeddingNormWeight, bias: embeddingNormBias)

        for layer in layers {
            let x = scratch.hidden
            layer.queryKeyValue.apply(x, rows: tokens, bias: layer.queryKeyValueBias, into: scratch.queryKeyValue)
            for (s, sequence) in sequences.enumerated() where !sequence.isEmpty {
                attention(start: starts[s], count: sequence.count, scratch: scratch)
            }
            // sum = x + context·Woᵀ + bo, normalised: the attention block's output.
            layer.attentionOutput.apply(
                scratch.context, rows: tokens, bias: layer.attentionOutputBias, residual: x, into: scratch.sum)
            layerNorm(scratch.sum, rows: tokens, weight: layer.attentionNormWeight, bias: layer.attentionNormBias)
            swap(&scratch.hidden, &scratch.sum)
            // Feed-forward: GELU(x·W1ᵀ + b1)·W2ᵀ + b2 + x, normalised.
            let y = scratch.hidden
            layer.intermediate.apply(y, rows: tokens, bias: layer.intermediateBias, gelu: true, into: scratch.intermediate)
            layer.output.apply(scratch.intermediate, rows: tokens, bias: layer.outputBias, residual: y, into: scratch.sum)
            layerNorm(scratch.sum, rows: tokens, weight: layer.outputNormWeight, bias: layer.outputNormBias)
            swap(&scratch.hidden, &scratch.sum)
        }
        return starts
    }

    /// Multi-head self-attention of one sequence's `count` tokens (rows start..<start+count of
    /// queryKeyValue), written to the same rows of `context`.
    private func attention(start: Int, count n: Int, scratch: Scratch) {
        let h = configuration.hiddenSize, d = configuration.headSize
        let scale = 1 / Float(d).squareRoot()
        let scores = scratch.scores
        for head in 0..<configuration.headCount {
            // Row t of queryKeyValue is [q | k | v] for token t.
            let query = scratch.queryKeyValue + start * 3 * h + head * d
            // scores = q·kᵀ / √d, one row per query token
            BLAS.multiply(
                m: n, n: n, k: d, alpha: scale, a: query, lda: 3 * h, b: query + h, ldb: 3 * h,
                transposeB: true, c: scores, ldc: n)
            for row in 0..<n { vs_softmax(scores + row * n, n) }
            BLAS.multiply(
                m: n, n: d, k: n, a: scores, lda: n, b: query + 2 * h, ldb: 3 * h,
                c: scratch.context + start * h + head * d, ldc: h)
        }
    }

    /// LayerNorm in place over rows of the hidden size: (x − mean) / √(var + ε) · weight + bias.
    private func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, weight: Tensor, bias: Tensor) {
        let h = configuration.hiddenSize
        let epsilon = configuration.layerNormEpsilon
        for r in 0..<rows {
            let row = x + r * h
            var sum = SIMD8<Float>(), j = 0
            while j + 8 <= h {
                sum += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                j += 8
            }
            var total = sum.sum()
            while j < h { total += row[j]; j += 1 }
            let mean = total / Float(h)
            var squares = SIMD8<Float>()
            j = 0
            while j + 8 <= h {
                let centred = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) - mean
                squares += centred * centred
                j += 8
            }
            var variance = squares.sum()
            while j < h { variance += (row[j] - mean) * (row[j] - mean); j += 1 }
            let inverse = 1 / (variance / Float(h) + epsilon).squareRoot()
            for k in 0..<h { row[k] = (row[k] - mean) * inverse * weight.pointer[k] + bias.pointer[k] }
        }
    }
}

/// A Linear layer's weight [outputs, inputs] (as PyTorch stores it). On AVX-512 machines it is
/// packed once at load for vs_gemm_packed_avx512, which then skips what a general sgemm does on
/// every call (repacking the weight); elsewhere the products go through BLAS sgemm.
final class DenseWeight: @unchecked Sendable {  // read-only after init
    let outputs, inputs: Int
    private let tensor: Tensor?
    private let packed: UnsafeMutablePointer<Float>?

    /// Whether this CPU runs the packed kernel (AVX-512F).
    static let canPack = vs_detect_simd_level() == VS_SIMD_AVX512

    /// `packing: false` keeps the BLAS path even where the packed kernel runs (for tests).
    init(_ weight: Tensor, outputs: Int, inputs: Int, packing: Bool = DenseWeight.canPack) {
        precondition(outputs > 0 && inputs > 0 && weight.count == outputs * inputs)
        self.outputs = outputs
        self.inputs = inputs
        #if arch(x86_64)
        if packing && Self.canPack {
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: vs_gemm_packed_count(outputs, inputs))
            vs_gemm_pack(weight.pointer, outputs, inputs, packed)
            self.packed = packed
            self.tensor = nil
            return
        }
        #endif
        self.packed = nil
        self.tensor = weight
    }

    deinit { packed?.deallocate() }

    /// out = x·Wᵀ + bias + residual, then GELU when `gelu`, for `rows` rows (x's row stride is
    /// `inputs`; out's and residual's `outputs`). `residual` may be `out` itself.
    func apply(
        _ x: UnsafePointer<Float>, rows: Int, bias: Tensor? = nil, residual: UnsafePointer<Float>? = nil, gelu: Bool = false,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(bias.map { $0.count == outputs } ?? true)
        #if arch(x86_64)
        if let packed {
            vs_gemm_packed_avx512(rows, outputs, inputs, x, inputs, packed, bias?.pointer, residual, gelu ? 1 : 0, out, outputs)
            return
        }
        #endif
        // BLAS: out starts as residual + bias, and sgemm adds the product to it.
        for r in 0..<rows where residual != nil || bias != nil {
            let row = out + r * outputs
            switch (residual, bias) {
            case (let residual?, let bias?):
                for j in 0..<outputs { row[j] = residual[r * outputs + j] + bias.pointer[j] }
            case (let residual?, nil) where residual != UnsafePointer(out):
                row.update(from: residual + r * outputs, count: outputs)
            case (nil, let bias?):
                row.update(from: bias.pointer, count: outputs)
            default:
                break
            }
        }
        BLAS.multiply(
            m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: tensor!.pointer, ldb: inputs,
            transposeB: true, beta: residual != nil || bias != nil ? 1 : 0, c: out, ldc: outputs)
        if gelu { vs_gelu_erf(out, rows, outputs, nil) }
    }
}
