import JobdSystem

/// A set of byte-string members.
public final class SetValue {
    public let members: MemberTable<Void>

    public init(members: MemberTable<Void> = MemberTable(empty: ())) { self.members = members }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.count == 0 }

    @inline(__always)
    public func contains(_ member: UnsafeRawBufferPointer) -> Bool { members.find(member) != nil }

    /// Adds `member`; returns true when it is new.
    @discardableResult
    public func add(_ member: UnsafeRawBufferPointer) -> Bool {
        guard members.find(member) == nil else { return false }
        members.insert(Array(member), ())
        return true
    }

    @discardableResult
    public func add(_ member: [UInt8]) -> Bool { member.withUnsafeBytes { add($0) } }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool { members.remove(member) != nil }

    /// Every member, in slot order.
    public func forEach(_ body: ([UInt8]) -> Void) { members.forEach { member, _ in body(member) } }

    public var allMembers: [[UInt8]] {
        var result: [[UInt8]] = []
        result.reserveCapacity(count)
        forEach { result.append($0) }
        return result
    }

    /// The encoding Redis 7.0 would use (OBJECT ENCODING): intset for up to 512 integers.
    public func isIntegers(maxEntries: Int = 512) -> Bool {
        guard count <= maxEntries else { return false }
        var integers = true
        forEach { member in if integers && Numbers.parseInt64(member) == nil { integers = false } }
        return integers
    }
}
