#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read sequentially through a buffer, with errors that name the path.
final class BinaryReader {
    let path: String
    let size: Int
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0  // valid bytes are buffer[bufferStart..<bufferEnd]
    private var bufferEnd = 0
    /// Bytes consumed so far (the offset of the next byte).
    private(set) var offset = 0

    init(path: String, bufferSize: Int = 1 << 20) throws {
        self.path = path
        (fd, size) = try RegularFile.open(path)
        buffer = .allocate(byteCount: bufferSize, alignment: 64)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    var remaining: Int { size - offset }

    /// Fills `destination` completely; returns false (having read what there was) at end of file.
    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        var filled = 0
        while filled < destination.count {
            if bufferStart == bufferEnd {
                // Large reads go straight to the destination, skipping the copy.
                if destination.count - filled >= buffer.count {
                    let n = try readSome(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled...]))
                    if n == 0 { return false }
                    filled += n
                    offset += n
                    continue
                }
                bufferStart = 0
                bufferEnd = try readSome(into: buffer)
                if bufferEnd == 0 { return false }
            }
            let n = min(bufferEnd - bufferStart, destination.count - filled)
            destination.baseAddress!.advanced(by: filled).copyMemory(from: buffer.baseAddress! + bufferStart, byteCount: n)
            bufferStart += n
            filled += n
            offset += n
        }
        return true
    }

    /// Reads one little-endian value of a fixed-width integer or float type.
    func read<T>(_ type: T.Type) throws -> T? {
        var value: T? = nil
        try withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) { raw in
            if try read(into: raw) { value = raw.loadUnaligned(as: T.self) }
        }
        return value
    }

    /// Skips `count` bytes.
    func skip(_ count: Int) throws -> Bool {
        let buffered = min(count, bufferEnd - bufferStart)
        bufferStart += buffered
        offset += buffered
        let rest = count - buffered
        guard rest > 0 else { return true }
        guard offset + rest <= size else { return false }
        guard lseek(fd, off_t(offset + rest), SEEK_SET) >= 0 else {
            throw VectorSearchError.io(path: path, reason: String(cString: strerror(errno)))
        }
        offset += rest
        return true
    }

    private func readSome(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, destination.baseAddress, destination.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw VectorSearchError.io(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Opening files to read: only regular files, checked without blocking, so a FIFO, a device or a
/// directory given as input is refused at once with a message instead of hanging the process.
package enum RegularFile {
    /// A read-only descriptor of the regular file at `path` and its size.
    package static func open(_ path: String) throws -> (fd: Int32, size: Int) {
        // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw VectorSearchError.io(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw VectorSearchError.io(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw VectorSearchError.io(path: path, reason: "not a regular file (\(kind(of: info.st_mode)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int(info.st_size))
    }

    /// The whole regular file at `path`.
    package static func readAll(_ path: String) throws -> [UInt8] {
        let reader = try BinaryReader(path: path)
        var bytes = [UInt8](repeating: 0, count: reader.size)
        let complete = try bytes.withUnsafeMutableBytes { try reader.read(into: $0) }
        guard complete else { throw VectorSearchError.io(path: path, reason: "the file shrank while it was read") }
        return bytes
    }

    /// Fails unless `path` names a regular file (for readers that open files themselves).
    package static func check(_ path: String) throws {
        close(try open(path).fd)
    }

    /// What a file of this mode is, in words.
    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}

/// Whole files written atomically: readers find the old file or the new one, never a part.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try AtomicFileWriter(path: path)
        try file.write(contentsOf: bytes)
        try file.commit()
    }

    /// For writers that open the file themselves (libhdf5): `write` fills the temporary file at
    /// the path it is given, which then replaces `path` as ``write(_:to:)`` does.
    public static func replace(_ path: String, write: (_ temporaryPath: String) throws -> Void) throws {
        let file = try AtomicFileWriter(path: path)
        try write(file.temporaryPath)
        try file.commit()
    }
}

/// Writes a file atomically: everything goes to a temporary file beside the target, which is
/// fsynced and renamed over it by ``commit()``. Without a commit, the temporary file is removed
/// and the target is untouched, so an interrupted save never leaves a broken file.
final class AtomicFileWriter {
    let path: String
    let temporaryPath: String
    private var fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var committed = false

    /// Writes only regular files: a target that exists as anything else (a device such as
    /// `/dev/null`, a FIFO, a directory, a socket) is refused, and a symbolic link is followed,
    /// so the file it points to is replaced and the link kept. Temporary files that an
    /// interrupted save left beside the target are removed first.
    init(path: String, bufferSize: Int = 1 << 20) throws {
        self.path = try Self.target(of: path)
        Self.removeStrayTemporaryFiles(of: self.path)
        temporaryPath = "\(self.path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VectorSearchError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer = .allocate(byteCount: bufferSize, alignment: 64)
    }

    /// The regular file that writing `path` replaces: `path` itself, or where its symbolic
    /// link points.
    private static func target(of path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return path }  // a new file
        var target = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw VectorSearchError.io(path: path, reason: "a symbolic link to a missing file: refusing to write through it")
            }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &info) == 0 else { return target }
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw VectorSearchError.io(
                path: path, reason: "exists and is not a regular file (\(RegularFile.kind(of: info.st_mode))): refusing to replace it")
        }
        return target
    }

    /// Removes `<path>.tmp-<pid>-<n>` files whose writing process is gone (a save killed
    /// before its rename); a live process's temporary file is left alone.
    private static func removeStrayTemporaryFiles(of path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let prefix = (slash.map { String(path[path.index(after: $0)...]) } ?? path) + ".tmp-"
        guard let dir = opendir(directory.isEmpty ? "/" : directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink((directory.isEmpty ? "" : directory) + "/" + name) }
        }
    }

    deinit {
        if !committed {
            close(fd)
            unlink(temporaryPath)
        }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffered + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try writeAll(bytes)
        } else {
            (buffer.baseAddress! + buffered).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            buffered += bytes.count
        }
    }

    func write<T>(_ value: T) throws {
        try withUnsafeBytes(of: value) { try write($0) }
    }

    func write<T>(contentsOf array: [T]) throws {
        try array.withUnsafeBytes { try write($0) }
    }

    /// Flushes, fsyncs, renames the temporary file over the target and fsyncs the directory.
    func commit() throws {
        try flush()
        guard fsync(fd) == 0 else { throw VectorSearchError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            committed = true
            throw VectorSearchError.io(path: path, reason: "rename: \(reason)")
        }
        committed = true
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let dirfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    private func flush() throws {
        guard buffered > 0 else { return }
        try writeAll(UnsafeRawBufferPointer(start: buffer.baseAddress, count: buffered))
        buffered = 0
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw VectorSearchError.io(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
    }
}
