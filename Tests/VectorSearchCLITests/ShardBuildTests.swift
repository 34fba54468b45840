import Foundation
import Testing
import TestSupport
import VectorSearch

@testable import VectorSearchCLI

/// `build --shard I/N`: each shard holds its rows under their global ids and says so in its
/// manifest; IVF shards built on one `--train-only` quantizer share its lists.
@Suite("build --shard")
struct ShardBuildTests {
    @Test("flat, HNSW and IVF (streamed, with a shared quantizer) shards hold their rows with global ids, and all of them together hold every row")
    func shards() async throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        try await run(["gen", "--n", "500", "--dim", "10", "--queries", "5", "--seed", "4", "--output", dir])
        let base = try EmbeddingFile.read("\(dir)/base.fvecs").vectors
        try await run(["build", "--input", "\(dir)/base.fvecs", "--index", "ivf", "--nlist", "8", "--train-only", "--output", "\(dir)/q.vsidx"])
        guard case .ivf(let quantizer) = try AnyIndex.load(from: "\(dir)/q.vsidx") else { throw CLIError("not IVF") }
        #expect(quantizer.count == 0 && quantizer.isTrained)

        for (kind, extra) in [("flat", [String]()), ("hnsw", []), ("ivf", ["--quantizer", "\(dir)/q.vsidx"])] {
            var manifests: [ShardManifest] = []
            var seen = Set<VectorID>()
            for shard in 0..<3 {
                let output = "\(dir)/\(kind)-\(shard).vsidx"
                try await run(["build", "--input", "\(dir)/base.fvecs", "--index", kind, "--shard", "\(shard)/3", "--output", output] + extra)
                let manifest = try #require(try ShardManifest.read(besideIndex: output))
                manifests.append(manifest)
                let index = try AnyIndex.load(from: output)
                #expect(index.count == manifest.end - manifest.first)
                for row in manifest.first..<manifest.end {
                    #expect(index.vector(for: VectorID(row)) == base[row], "\(kind) shard \(shard) row \(row)")
                    seen.insert(VectorID(row))
                }
                if case .ivf(let ivf) = index { #expect(ivf.listCount == 8) }
            }
            #expect(seen.count == 500, "\(kind)")
            #expect(manifests.allSatisfy { $0.build == manifests[0].build && $0.kind.rawValue == kind && $0.dataset.rows == 500 })
            #expect(manifests.map(\.shard) == [0, 1, 2])
        }
        // A build that is not a shard, to a shard's path, leaves no manifest behind.
        try await run(["build", "--input", "\(dir)/base.fvecs", "--index", "flat", "--output", "\(dir)/flat-1.vsidx"])
        #expect(try ShardManifest.read(besideIndex: "\(dir)/flat-1.vsidx") == nil)
        // Other parameters or another quantizer make another build.
        try await run(["build", "--input", "\(dir)/base.fvecs", "--index", "hnsw", "--m", "8", "--shard", "0/3", "--output", "\(dir)/other.vsidx"])
        #expect(try ShardManifest.read(besideIndex: "\(dir)/other.vsidx")?.build != ShardManifest.read(besideIndex: "\(dir)/hnsw-0.vsidx")?.build)
    }

    @Test("refusals: a shard number out of range, a quantizer that holds vectors or is of another dimension, --train-only with --shard")
    func refusals() async throws {
        let dir = temporaryDirectory()
        defer { cleanup(dir) }
        try await run(["gen", "--n", "60", "--dim", "6", "--queries", "2", "--output", dir])
        try await run(["gen", "--n", "60", "--dim", "7", "--queries", "2", "--output", "\(dir)/seven"])
        try await run(["build", "--input", "\(dir)/base.fvecs", "--index", "ivf", "--nlist", "4", "--output", "\(dir)/full.vsidx"])
        try await run(["build", "--input", "\(dir)/seven/base.fvecs", "--index", "ivf", "--nlist", "4", "--train-only", "--output", "\(dir)/q7.vsidx"])
        let input = ["build", "--input", "\(dir)/base.fvecs", "--output", "\(dir)/x.vsidx"]
        for (arguments, says) in [
            (input + ["--index", "flat", "--shard", "3/3"], ""),
            (input + ["--index", "flat", "--shard", "1"], ""),
            (input + ["--index", "flat", "--shard", "0/61"], "at most one shard per row"),
            (input + ["--index", "ivf", "--quantizer", "\(dir)/full.vsidx", "--shard", "0/2"], "trained and empty"),
            (input + ["--index", "ivf", "--quantizer", "\(dir)/q7.vsidx", "--shard", "0/2"], "dimension 7"),
            (input + ["--index", "ivf", "--train-only", "--shard", "0/2"], "--train-only"),
            (input + ["--index", "hnsw", "--train-only"], "--index ivf"),
        ] {
            do {
                try await run(arguments)
                Issue.record("accepted \(arguments)")
            } catch {
                let message = "\(error)" + ((error as? any CustomStringConvertible)?.description ?? "")
                #expect(says.isEmpty || message.contains(says), "\(arguments): \(message)")
            }
        }
    }
}
