import CVectorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the machine can hold, so that a request too large for it is refused with a message
/// before anything is allocated or written.
package enum SystemResources {
    /// Bytes of memory available for new allocations (Linux `MemAvailable`), nil when unknown.
    package static var availableMemory: Int? {
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix("MemAvailable:") else { continue }
            let kilobytes = text.dropFirst("MemAvailable:".count).split(separator: " ").first.flatMap { Int($0) }
            return kilobytes.map { ParameterCheck.saturatingProduct($0, 1024) }
        }
        return nil
    }

    /// Hands memory the allocator holds but no one uses back to the system (glibc keeps freed
    /// blocks of a big build, such as per-slice training copies, in its heap). Call after a build
    /// so the process's resident set is what the index holds.
    package static func returnFreedMemory() {
        vs_return_freed_memory()
    }

    /// Free bytes, for an unprivileged user, on the file system that holds `path`.
    package static func freeDiskBytes(at path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return ParameterCheck.saturatingProduct(Int(info.f_bavail), Int(info.f_frsize))
    }

    /// Throws unless `bytes` (nil: the size overflowed) fit in the memory available now.
    package static func checkMemory(_ bytes: Int?, for what: String) throws {
        let available = availableMemory
        guard let bytes, available.map({ bytes <= $0 }) ?? true else {
            throw VectorSearchError.invalidArgument(
                "\(what) needs \(bytes.map(gigabytes) ?? "more than 2⁶³ bytes")"
                    + (available.map { ", more than the \(gigabytes($0)) of memory available" } ?? ""))
        }
    }

    /// `bytes` in gigabytes, for messages.
    package static func gigabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1e9
        return value < 0.01 ? "\(bytes) bytes" : "\((value * 100).rounded() / 100) GB"
    }
}
