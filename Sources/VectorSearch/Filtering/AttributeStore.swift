/// The metadata of an index's vectors, one column per field, indexed by internal slot, and the
/// compiler that turns a ``Filter`` into the exact set of slots it admits.
///
/// Keyword, bool and tag columns keep an inverted index (value → ascending slots) and numeric
/// columns the slots sorted by value, so a condition costs its matches plus a binary search,
/// not a scan. Both are built on first use after a change; compiled filters are cached until
/// the next change. Mutations run under the owning index's write lock; compiling runs under
/// its read lock, so the derived state and the cache have a lock of their own.
package final class AttributeStore: @unchecked Sendable {
    private(set) var count = 0
    private(set) var columns: [String: AttributeColumn] = [:]
    private let derivedLock = Lock()
    private var cache: [Filter: SlotBitset] = [:]
    static let cacheLimit = 64

    var fieldNames: [String] { columns.keys.sorted() }

    init() {}

    /// `count` slots with these columns and no values yet (loading fills them with `set`).
    init(count: Int, columns kinds: [(String, AttributeColumn.Kind)]) {
        self.count = count
        for (name, kind) in kinds { columns[name] = AttributeColumn(kind: kind, count: count) }
    }

    /// `count` slots with these columns, each of `count` slots (as loading decodes them).
    init(count: Int, columns: [String: AttributeColumn]) {
        self.count = count
        self.columns = columns
    }

    // MARK: Writing

    /// Checks a batch before anything is added: each field keeps one type (integers widen to
    /// floats), numbers are finite, names are usable in filters.
    func check(_ batch: [Attributes]) throws {
        _ = try Self.kinds(columns.mapValues(\.kind), adding: batch)
    }

    /// The kinds of the fields after `batch` joins fields of `kinds`, or the batch's first clash
    /// (a type change, a non-finite number, a name filters cannot use). Collections keep their
    /// fields' kinds with their documents and check a batch with it before they commit it.
    package static func kinds(_ kinds: [String: AttributeColumn.Kind], adding batch: [Attributes]) throws -> [String: AttributeColumn.Kind] {
        var kinds = kinds
        for (row, attributes) in batch.enumerated() {
            for (field, value) in attributes {
                guard !field.isEmpty, !field.hasPrefix("$") else {
                    throw VectorSearchError.invalidAttributes(row: row, reason: "field name '\(field)' is empty or starts with '$'")
                }
                if case .double(let d) = value, !d.isFinite {
                    throw VectorSearchError.invalidAttributes(row: row, reason: "field '\(field)' is not a finite number")
                }
                let kind = AttributeColumn.Kind(value)
                switch (kinds[field], kind) {
                case (nil, _): kinds[field] = kind
                case let (existing?, new) where existing == new: break
                case (.integer?, .float): kinds[field] = .float
                case (.float?, .integer): break
                case let (existing?, _):
                    throw VectorSearchError.invalidAttributes(
                        row: row, reason: "field '\(field)' holds \(existing.plural), this row gives \(value.kindName) \(value)")
                }
            }
        }
        return kinds
    }

    /// Adds an empty column for each field of `kinds` not here yet, so that filters may name a
    /// field that no vector of this index has (yet): a collection's two parts share its fields.
    func declare(_ kinds: [String: AttributeColumn.Kind]) {
        for (name, kind) in kinds where columns[name] == nil { columns[name] = AttributeColumn(kind: kind, count: count) }
    }

    /// Gives `slots` the attributes of `batch` (already checked; empty: none). A slot is an
    /// existing one (its old attributes go) or the next new one.
    func assign<Slots: Sequence<Int>>(_ batch: [Attributes], to slots: Slots) {
        for (row, slot) in slots.enumerated() {
            if slot == count {
                count += 1
                for column in columns.values { column.appendAbsent() }
            } else {
                for column in columns.values { column.clear(slot) }
            }
            if !batch.isEmpty { write(batch[row], at: slot) }
        }
        invalidate()
    }

    /// Replaces the attributes of an existing slot (already checked).
    func set(_ attributes: Attributes, at slot: Int) { assign([attributes], to: CollectionOfOne(slot)) }

    /// Forgets the attributes of a slot that stays allocated (a removed HNSW node).
    func clear(_ slot: Int) {
        for column in columns.values { column.clear(slot) }
        invalidate()
    }

    /// Removes `slot` by moving the last slot's attributes into it (indexes that keep slots dense).
    func removeSwappingLast(_ slot: Int) {
        for column in columns.values { column.removeSwappingLast(slot, count: count) }
        count -= 1
        invalidate()
    }

    /// Drops cached filters; the owning index calls it whenever the set of live slots changes.
    func invalidate() {
        derivedLock.withLock {
            cache.removeAll()
            for column in columns.values { column.dropDerived() }
        }
    }

    private func write(_ attributes: Attributes, at slot: Int) {
        for (field, value) in attributes {
            let column =
                columns[field]
                ?? {
                    let new = AttributeColumn(kind: AttributeColumn.Kind(value), count: count)
                    columns[field] = new
                    return new
                }()
            column.write(value, at: slot)
        }
    }

    /// The attributes of a slot, as given (integers in a widened column come back as numbers).
    func attributes(at slot: Int) -> Attributes {
        var out: Attributes = [:]
        for (field, column) in columns { if let value = column.value(at: slot) { out[field] = value } }
        return out
    }

    // MARK: Compiling filters

    /// The slots `filter` admits among `count`, intersected with `live()` when given (slots of
    /// removed vectors). Cached until the next change.
    func matching(_ filter: Filter, live: () -> SlotBitset?) throws -> SlotBitset {
        try derivedLock.withLock {
            if let hit = cache[filter] { return hit }
            var bits = try evaluate(filter)
            if let live = live() { bits.formIntersection(live) }
            if cache.count >= Self.cacheLimit { cache.removeAll() }
            cache[filter] = bits
            return bits
        }
    }

    private func evaluate(_ filter: Filter) throws -> SlotBitset {
        switch filter {
        case let .equals(field, value): return try equal(field, value, op: "$eq")
        case let .notEquals(field, value):
            var bits = try equal(field, value, op: "$ne")
            bits.invert()
            return bits
        case let .lessThan(field, value): return try range(field, value, op: "$lt")
        case let .lessThanOrEqual(field, value): return try range(field, value, op: "$lte")
        case let .greaterThan(field, value): return try range(field, value, op: "$gt")
        case let .greaterThanOrEqual(field, value): return try range(field, value, op: "$gte")
        case let .in(field, values):
            var bits = SlotBitset(slotCount: count)
            for value in values { bits.formUnion(try equal(field, value, op: "$in")) }
            if values.isEmpty { _ = try column(field) }
            return bits
        case let .notIn(field, values):
            var bits = try evaluate(.in(field, values))
            bits.invert()
            return bits
        case let .contains(field, tag): return try equal(field, .string(tag), op: "$contains")
        case let .exists(field):
            let column = try column(field)
            var bits = SlotBitset(slotCount: count)
            for slot in 0..<count where column.present[slot] { bits.insert(slot) }
            return bits
        case let .and(filters):
            var bits = SlotBitset(slotCount: count, filled: true)
            for f in filters { bits.formIntersection(try evaluate(f)) }
            return bits
        case let .or(filters):
            var bits = SlotBitset(slotCount: count)
            for f in filters { bits.formUnion(try evaluate(f)) }
            return bits
        case let .not(f):
            var bits = try evaluate(f)
            bits.invert()
            return bits
        }
    }

    private func column(_ field: String) throws -> AttributeColumn {
        guard let column = columns[field] else {
            let known = fieldNames.isEmpty ? "the index has no metadata" : "known fields: " + fieldNames.joined(separator: ", ")
            throw VectorSearchError.invalidFilter("unknown field '\(field)' (\(known))")
        }
        return column
    }

    private func equal(_ field: String, _ value: AttributeValue, op: String) throws -> SlotBitset {
        let column = try column(field)
        func wrongType() -> VectorSearchError {
            .invalidFilter("'\(op)' on field '\(field)': the field holds \(column.kind.plural), the filter gives \(value.kindName) \(value)")
        }
        var bits = SlotBitset(slotCount: count)
        switch (column.kind, value) {
        case (.keyword, .string(let s)), (.tags, .string(let s)):
            if let code = column.codeOf[s] { bits.insert(contentsOf: column.postingsBuilt()[Int(code)]) }
        case (.bool, .bool(let b)):
            bits.insert(contentsOf: column.postingsBuilt()[b ? 1 : 0])
        case (.integer, .int), (.integer, .double), (.float, .int), (.float, .double):
            return try range(field, value, op: op, from: 0, to: 1)
        default:
            throw wrongType()
        }
        return bits
    }

    private func range(_ field: String, _ value: AttributeValue, op: String) throws -> SlotBitset {
        switch op {
        case "$lt": try range(field, value, op: op, from: nil, to: 0)
        case "$lte": try range(field, value, op: op, from: nil, to: 1)
        case "$gt": try range(field, value, op: op, from: 1, to: nil)
        default: try range(field, value, op: op, from: 0, to: nil)
        }
    }

    /// The slots from the first whose comparison with `value` (−1, 0, 1) reaches `from`, up to
    /// the first that reaches `to`, in the column's ascending order (nil: unbounded).
    private func range(_ field: String, _ value: AttributeValue, op: String, from: Int?, to: Int?) throws -> SlotBitset {
        let column = try column(field)
        guard column.kind == .integer || column.kind == .float, value.numeric != nil else {
            throw VectorSearchError.invalidFilter(
                "'\(op)' on field '\(field)' compares numbers: the field holds \(column.kind.plural), the filter gives \(value.kindName) \(value)")
        }
        let order = column.orderBuilt()
        let start = from.map { t in column.partition(order) { column.compare($0, value) >= t } } ?? 0
        let end = to.map { t in column.partition(order) { column.compare($0, value) >= t } } ?? order.count
        var bits = SlotBitset(slotCount: count)
        if start < end { bits.insert(contentsOf: order[start..<end]) }
        return bits
    }
}

/// One field's values by slot. Only the array of its kind is used.
package final class AttributeColumn {
    package enum Kind: UInt8, Sendable {
        case keyword = 1, integer, float, bool, tags

        package init(_ value: AttributeValue) {
            switch value {
            case .string: self = .keyword
            case .int: self = .integer
            case .double: self = .float
            case .bool: self = .bool
            case .strings: self = .tags
            }
        }

        var plural: String {
            switch self {
            case .keyword: "keywords"
            case .integer: "integers"
            case .float: "numbers"
            case .bool: "bools"
            case .tags: "lists of keywords"
            }
        }
    }

    private(set) var kind: Kind
    var present: [Bool]
    var codes: [UInt32] = []  // keyword: dictionary code; bool: 0 or 1
    var integers: [Int64] = []
    var floats: [Double] = []
    var tagLists: [[UInt32]] = []
    var dictionary: [String] = []
    var codeOf: [String: UInt32] = [:]
    // Derived on demand (under the store's lock), dropped on change.
    private var postings: [[UInt32]]?
    private var order: [UInt32]?

    init(kind: Kind, count: Int) {
        self.kind = kind
        present = []
        for _ in 0..<count { appendAbsent() }
    }

    /// A column with these slots present; the caller fills the array of its kind.
    init(kind: Kind, present: [Bool]) {
        self.kind = kind
        self.present = present
    }

    func appendAbsent() {
        present.append(false)
        switch kind {
        case .keyword, .bool: codes.append(0)
        case .integer: integers.append(0)
        case .float: floats.append(0)
        case .tags: tagLists.append([])
        }
    }

    func clear(_ slot: Int) {
        present[slot] = false
        if kind == .tags { tagLists[slot] = [] }
    }

    func removeSwappingLast(_ slot: Int, count: Int) {
        let last = count - 1
        present[slot] = present[last]
        present.removeLast()
        switch kind {
        case .keyword, .bool: codes[slot] = codes[last]; codes.removeLast()
        case .integer: integers[slot] = integers[last]; integers.removeLast()
        case .float: floats[slot] = floats[last]; floats.removeLast()
        case .tags: tagLists.swapAt(slot, last); tagLists.removeLast()
        }
    }

    private func code(_ keyword: String) -> UInt32 {
        if let code = codeOf[keyword] { return code }
        let code = UInt32(dictionary.count)
        dictionary.append(keyword)
        codeOf[keyword] = code
        return code
    }

    /// Writes a value the store has checked against this column's kind.
    func write(_ value: AttributeValue, at slot: Int) {
        if kind == .integer, case .double = value {  // widen the column once
            floats = integers.map(Double.init)
            integers = []
            kind = .float
        }
        present[slot] = true
        switch (kind, value) {
        case (.keyword, .string(let s)): codes[slot] = code(s)
        case (.bool, .bool(let b)): codes[slot] = b ? 1 : 0
        case (.integer, .int(let i)): integers[slot] = i
        case (.float, .int(let i)): floats[slot] = Double(i)
        case (.float, .double(let d)): floats[slot] = d
        case (.tags, .strings(let tags)): tagLists[slot] = tags.map(code)
        default: preconditionFailure("attribute of kind \(value.kindName) written to a column of \(kind.plural) unchecked")
        }
    }

    func value(at slot: Int) -> AttributeValue? {
        guard present[slot] else { return nil }
        switch kind {
        case .keyword: return .string(dictionary[Int(codes[slot])])
        case .bool: return .bool(codes[slot] == 1)
        case .integer: return .int(integers[slot])
        case .float: return .double(floats[slot])
        case .tags: return .strings(tagLists[slot].map { dictionary[Int($0)] })
        }
    }

    func dropDerived() {
        postings = nil
        order = nil
    }

    /// Ascending slots per code (keyword, tags) or per truth value (bool).
    func postingsBuilt() -> [[UInt32]] {
        if let postings { return postings }
        var built = [[UInt32]](repeating: [], count: kind == .bool ? 2 : dictionary.count)
        for slot in present.indices where present[slot] {
            if kind == .tags {
                for code in Set(tagLists[slot]) { built[Int(code)].append(UInt32(slot)) }
            } else {
                built[Int(codes[slot])].append(UInt32(slot))
            }
        }
        postings = built
        return built
    }

    /// The present slots in ascending order of value (numeric columns).
    func orderBuilt() -> [UInt32] {
        if let order { return order }
        var built = present.indices.filter { present[$0] }.map(UInt32.init)
        if kind == .integer {
            integers.withUnsafeBufferPointer { v in built.sort { v[Int($0)] < v[Int($1)] } }
        } else {
            floats.withUnsafeBufferPointer { v in built.sort { v[Int($0)] < v[Int($1)] } }
        }
        order = built
        return built
    }

    /// −1, 0 or 1 as the value at `slot` is below, equal to or above `bound` (integers compare
    /// exactly with integers).
    func compare(_ slot: UInt32, _ bound: AttributeValue) -> Int {
        if kind == .integer, case .int(let b) = bound {
            let v = integers[Int(slot)]
            return v < b ? -1 : (v == b ? 0 : 1)
        }
        let v = kind == .integer ? Double(integers[Int(slot)]) : floats[Int(slot)]
        let b = bound.numeric!
        return v < b ? -1 : (v == b ? 0 : 1)
    }

    /// The first position in `order` where `isAtOrAbove` holds (it must be monotone).
    func partition(_ order: [UInt32], _ isAtOrAbove: (UInt32) -> Bool) -> Int {
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            if isAtOrAbove(order[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
