/// A sorted set (placeholder until the skip list lands).
public final class SortedSetValue {
    public init() {}
    public var count: Int { 0 }
}
extension SortedSetValue {
    public func forEach(_ body: (Double, [UInt8]) -> Void) {}
}
extension SortedSetValue {
    public func copy() -> SortedSetValue { SortedSetValue() }
    public func isSmall() -> Bool { true }
}
