/// A hash: fields and their values.
public final class HashValue {
    public let fields: MemberTable<[UInt8]>

    public init(fields: MemberTable<[UInt8]> = MemberTable(empty: [])) { self.fields = fields }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.count == 0 }

    /// The value of `field`, or nil.
    @inline(__always)
    public func value(_ field: UnsafeRawBufferPointer) -> [UInt8]? {
        fields.find(field).map { fields[$0] }
    }

    /// Sets `field`; returns true when the field is new.
    @discardableResult
    public func set(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        fields.set(field, Array(value))
    }

    /// Removes `field`; returns whether it was there.
    @discardableResult
    public func remove(_ field: UnsafeRawBufferPointer) -> Bool { fields.remove(field) != nil }

    /// Whether Redis 7.0 would keep this hash as a listpack (OBJECT ENCODING).
    public func isSmall(maxEntries: Int = 128, maxValue: Int = 64) -> Bool {
        guard count <= maxEntries else { return false }
        var small = true
        fields.forEach { field, value in if field.count > maxValue || value.count > maxValue { small = false } }
        return small
    }
}
