#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A progress line on stderr for work that takes more than a second: redrawn in place on a
/// terminal, a plain line every few seconds otherwise (logs, CI). Safe to update from any thread.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private var total: Int
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var printed = false
    private let interactive = isatty(STDERR_FILENO) != 0

    init(_ label: String, total: Int) {
        self.label = label
        self.total = total
    }

    /// `done` of `total` (when the total is only known as the work goes).
    func update(_ done: Int, of total: Int) {
        lock.withLock { self.total = total }
        update(done)
    }

    func update(_ done: Int) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed >= 1, now.timeIntervalSince(lastPrint) >= (interactive ? 0.2 : 5) else { return }
        lastPrint = now
        write(done, elapsed: elapsed, final: false)
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard printed else { return }
        write(total, elapsed: Date().timeIntervalSince(start), final: true)
    }

    private func write(_ done: Int, elapsed: Double, final: Bool) {
        printed = true
        let percent = total > 0 ? 100 * done / total : 100
        var line = "\(label): \(done)/\(total) (\(percent)%) \(String(format: "%.1f", elapsed))s"
        if !final, done > 0, done < total {
            line += ", about \(String(format: "%.0f", elapsed * Double(total - done) / Double(done)))s left"
        }
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (final ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

/// Prints a status line to stderr (keeps stdout for results).
func status(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Seconds since an arbitrary start, from a monotonic clock.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
}

/// Current resident memory of this process, in bytes (Linux: /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// This process's resident memory of its own and of mapped files, in bytes (Linux:
/// `RssAnon` and `RssFile` of /proc/self/status; zeros where unknown).
func residentSplit() -> (anonymous: Int, file: Int) {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    func field(_ name: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return (field("RssAnon"), field("RssFile"))
}
