#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped into memory, private and copy-on-write: reads come from the page cache,
/// and a write to a mapped page changes this process's copy of that page, never the file.
/// Stores that point into it keep it alive; it is unmapped when the last one lets go.
///
/// Saves replace files by renaming a new file over the old one (``AtomicFileWriter``), so a
/// mapped file keeps its contents while it is mapped, even when the path is saved over.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeMutableRawPointer
    let size: Int

    init(path: String) throws {
        self.path = path
        let (fd, size) = try RegularFile.open(path)
        defer { close(fd) }
        self.size = size
        guard size > 0 else { throw VectorSearchError.corruptIndex(path: path, reason: "empty file") }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw VectorSearchError.io(path: path, reason: "mmap: \(String(cString: strerror(errno)))")
        }
        base = address
    }

    deinit { munmap(base, size) }

    /// Tells the kernel that `start..<start + count` is read at random (an HNSW walk): a page
    /// fault then reads that page alone, not the read-ahead window around it, so a cold index
    /// reads what searches need and the page cache holds only that.
    func adviseRandomAccess(_ start: UnsafeRawPointer, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard count > 0, page > 0 else { return }
        let first = Int(bitPattern: start) / page * page
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(bitPattern: start) + count - first, MADV_RANDOM)
    }

    /// Bytes of `start..<start + count` (inside this mapping) whose pages are in memory now
    /// (`mincore`: in the page cache, or copied by a write), counted by whole pages.
    func residentBytes(_ start: UnsafeRawPointer, count: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard count > 0, page > 0 else { return 0 }
        let first = Int(bitPattern: start) / page * page
        let length = Int(bitPattern: start) + count - first
        var pages = [UInt8](repeating: 0, count: (length + page - 1) / page)
        guard mincore(UnsafeMutableRawPointer(bitPattern: first), length, &pages) == 0 else { return count }
        return min(count, pages.reduce(0) { $0 + Int($1 & 1) } * page)
    }

    /// `count` values of `T` at byte `offset`, which the caller has checked lie in the file.
    func pointer<T>(at offset: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        (base + offset).assumingMemoryBound(to: T.self)
    }
}
