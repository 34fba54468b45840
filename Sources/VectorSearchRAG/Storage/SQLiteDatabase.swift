import CSQLite
import Foundation
import VectorSearch

/// One connection to a SQLite database, as much of the C API as a collection needs: statements
/// with bound values, transactions, and errors that name the file. Not thread-safe by itself; the
/// collection uses it under its lock.
final class SQLiteDatabase {
    let path: String
    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (or creates) the database at `path` in WAL mode, so readers never block the writer.
    /// A writer that finds another process's write lock waits up to `busyTimeout` seconds.
    init(path: String, create: Bool, busyTimeout: Double) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, flags, nil)
        handle = opened
        guard status == SQLITE_OK else {
            let reason = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(opened)
            handle = nil
            throw VectorSearchError.io(path: path, reason: reason)
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(clamping: Int(busyTimeout * 1000)))
        // FULL: a commit is on disk (fsync of the WAL) before the call that made it returns.
        try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that bind nothing and return no rows.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        if status != SQLITE_OK { throw error(status, message.map { String(cString: $0) }) }
    }

    /// A prepared statement for `sql`, reused across calls (reset, bindings cleared). Reset it
    /// when done: a statement left mid-way keeps its read snapshot open.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var prepared: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard status == SQLITE_OK, let prepared else { throw error(status) }
        let statement = SQLiteStatement(prepared, database: self)
        cache[sql] = statement
        return statement
    }

    /// Runs `sql` with `values` bound in order; for statements that return no rows.
    func run(_ sql: String, _ values: SQLiteValue...) throws {
        try run(sql, values: values)
    }

    /// Runs `sql` with `values` bound in order; for statements that return no rows.
    func run(_ sql: String, values: [SQLiteValue]) throws {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
    }

    /// The rows of `sql` with `values` bound, each read by `row`.
    func rows<T>(_ sql: String, _ values: SQLiteValue..., row: (SQLiteStatement) throws -> T) throws -> [T] {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        var result: [T] = []
        while try statement.step() { result.append(try row(statement)) }
        return result
    }

    /// The integer in the first column of the first row of `sql`, or nil if there is no row or it is NULL.
    func integer(_ sql: String, _ values: SQLiteValue...) throws -> Int64? {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return statement.int64(0)
    }

    /// Rows the last statement inserted, changed or deleted (not counting those of triggers
    /// and foreign-key actions).
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// The rowid of the last row inserted on this connection.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    /// `immediate` takes the write lock at once (waiting for another writer up to the busy
    /// timeout), so what `body` reads stays true until it commits; otherwise the transaction reads
    /// one consistent snapshot.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        let result: T
        do {
            result = try body()
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        return result
    }

    func error(_ status: Int32, _ message: String? = nil) -> VectorSearchError {
        let text = message ?? String(cString: sqlite3_errmsg(handle))
        if status & 0xff == SQLITE_BUSY {
            return .io(path: path, reason: "another process holds the collection's write lock (\(text)); try again when it is done")
        }
        if status & 0xff == SQLITE_CORRUPT || status & 0xff == SQLITE_NOTADB {
            return .malformedFile(path: path, row: nil, byteOffset: nil, reason: "the database is damaged: \(text)")
        }
        return .io(path: path, reason: text)
    }
}

/// A value bound to a statement's parameter.
enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob(UnsafeRawBufferPointer)
    case null
}

/// A prepared statement of one connection.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let database: SQLiteDatabase

    init(_ handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` to parameters 1, 2, …; text and blobs are copied by SQLite.
    func bind(_ values: [SQLiteValue]) throws {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 =
                switch value {
                case let .integer(v): sqlite3_bind_int64(handle, index, v)
                case let .text(v): sqlite3_bind_text(handle, index, v, -1, transient)
                case let .blob(v): sqlite3_bind_blob64(handle, index, v.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(v.count), transient)
                case .null: sqlite3_bind_null(handle, index)
                }
            if status != SQLITE_OK { throw database.error(status) }
        }
    }

    /// Advances to the next row: true if there is one, false when done.
    func step() throws -> Bool {
        let status = sqlite3_step(handle)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.error(status)
            sqlite3_reset(handle)
            throw error
        }
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The blob in `column` (valid until the next step or reset), empty for NULL.
    func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count)
    }
}
