/// Calls `body` with the positions of the set bits of `words` (bit `i` of word `w` is position
/// 64·w + i) in ascending order, at most `batch` at a time, written into `buffer`. How kernels
/// walk a filter's matches: they take its bit words, not a filtering type.
@inline(__always)
func forEachSetBit(
    in words: UnsafeBufferPointer<UInt64>, batch: Int, into buffer: UnsafeMutablePointer<UInt32>,
    _ body: (_ positions: UnsafePointer<UInt32>, _ count: Int) -> Void
) {
    var n = 0
    for (index, var word) in words.enumerated() {
        while word != 0 {
            buffer[n] = UInt32(index << 6 | word.trailingZeroBitCount)
            n &+= 1
            word &= word &- 1
            if n == batch {
                body(buffer, n)
                n = 0
            }
        }
    }
    if n > 0 { body(buffer, n) }
}
