import Foundation
import Testing

@testable import VectorSearch

/// The JSON parser's numbers: the fast path (no String built) must give exactly what parsing
/// the text gives, for every shape it takes, and leave every other shape to the text path.
@Suite("JSON numbers")
struct JSONNumberTests {
    /// What the text path makes of `text`: an integer when it has no fraction or exponent and
    /// fits Int64, else the correctly rounded double.
    static func reference(_ text: String) -> JSONValue? {
        if !text.contains(where: { ".eE".contains($0) }), let integer = Int64(text) { return .integer(integer) }
        return Double(text).flatMap { $0.isFinite ? .number($0) : nil }
    }

    static func parsed(_ text: String) -> JSONValue? { try? JSONValue.parse(text) }

    @Test("random numbers in every format parse as the text path does, alone and inside arrays")
    func randomNumbers() throws {
        var generator = SplitMix64(seed: 42)
        var texts: [String] = [
            "0", "-0", "0.0", "-0.0", "0e5", "1e22", "1e23", "9007199254740993.0", "9007199254740992.5", "123456789012345678",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "12345678901234567890", "0.1", "0.30000000000000004",
            "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "1E+2", "1e-0", "007", "-012.50", "1.5e0022",
            "123456789.0123456789", "0.00000000000000000000000001", "1.0000000000000002", "3.4028235e38", "1e-22", "1e-23",
        ]
        for _ in 0..<20_000 {
            let magnitude = Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -30...30, using: &generator)))
            let digits = Int.random(in: 1...20, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: texts.append(String(format: "%.\(digits)g", magnitude))
            case 1: texts.append(String(format: "%.\(digits)e", magnitude))
            case 2: texts.append(String(format: "%.\(min(digits, 12))f", magnitude))
            case 3: texts.append("\(Float(magnitude))")
            default: texts.append("\(Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int.random(in: 0..<63, using: &generator))")
            }
        }
        for text in texts {
            let expected = Self.reference(text)
            #expect(Self.parsed(text) == expected, "\(text)")
            #expect(Self.parsed("[\(text), \(text)]") == expected.map { .array([$0, $0]) }, "\(text)")
            #expect(Self.parsed(#"{"x":\#(text)}"#) == expected.map { .object([("x", $0)]) }, "\(text)")
        }
    }

    @Test("malformed numbers are refused as before; the lenient forms the text path took are still taken")
    func malformed() {
        for text in ["-", "1e", "1e+", "--1", "1.2.3", "1e5e5", "1-2", "+1", "1e400", "-1e400", "0x10", "1,", "[-]", "[1e]"] {
            #expect(Self.parsed(text) == nil, "\(text)")
        }
        #expect(Self.parsed("1.") == .number(1))
        #expect(Self.parsed(".5") == .number(0.5))
        #expect(Self.parsed("[1.5e+1]") == .array([.number(15)]))
    }
}
