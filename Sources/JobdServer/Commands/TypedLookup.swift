import JobdRESP
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
    func stream(_ index: Int) -> Typed<StreamValue> {
        guard let entry = db.lookup(args[index]) else { return .missing }
        guard case let .stream(value) = entry.value else { wrongType(); return .wrongType }
        return .found(entry, value)
    }

    @inline(__always)
    func sortedSet(_ index: Int) -> Typed<SortedSetValue> {
        guard let entry = db.lookup(args[index]) else { return .missing }
        guard case let .zset(value) = entry.value else { wrongType(); return .wrongType }
        return .found(entry, value)
    }
}

extension Call {
    /// HDEL, SREM, ZREM: removes the members named from argument 2 on, deletes
    /// the key when it empties (stopping there, as Redis), logs and replies the count.
    func removeMembers(_ entry: KeyEntry, remove: (UnsafeRawBufferPointer) -> Bool, isEmpty: () -> Bool) {
        var removed = 0
        for i in 2..<count where remove(args[i]) {
            removed += 1
            if isEmpty() { break }
        }
        if isEmpty() { db.remove(entry) }
        if removed > 0 { logAsIs() }
        reply.integer(removed)
    }

    /// SINTERSTORE, ZRANGESTORE...: stores `value` at argument 1, or deletes
    /// that key when the result is empty (nil); replies with `size`.
    func storeResult(_ value: Value?, size: Int) {
        guard let value else {
            if db.remove(args[1]) {
                let key = args[1]
                log { e in e.begin(2); e.argument("DEL"); e.argument(key) }
            }
            return reply.integer(0)
        }
        db.set(args[1], value)
        logAsIs()
        reply.integer(size)
    }
}
