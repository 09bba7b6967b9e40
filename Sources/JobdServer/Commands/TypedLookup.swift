import JobdStore

/// What a key holds, for a command that works on one type.
enum Typed<T> {
    case missing
    case found(KeyEntry, T)
    /// The key holds another type; WRONGTYPE has been replied.
    case wrongType
}

extension Call {
    /// The hash at argument `index` (WRONGTYPE replied when it is something else).
    @inline(__always)
    func hash(_ index: Int) -> Typed<HashValue> {
        guard let entry = db.lookup(args[index]) else { return .missing }
        guard case let .hash(value) = entry.value else { wrongType(); return .wrongType }
        return .found(entry, value)
    }

    @inline(__always)
    func set(_ index: Int) -> Typed<SetValue> {
        guard let entry = db.lookup(args[index]) else { return .missing }
        guard case let .set(value) = entry.value else { wrongType(); return .wrongType }
        return .found(entry, value)
    }

    @inline(__always)
    func sortedSet(_ index: Int) -> Typed<SortedSetValue> {
        guard let entry = db.lookup(args[index]) else { return .missing }
        guard case let .zset(value) = entry.value else { wrongType(); return .wrongType }
        return .found(entry, value)
    }
}
