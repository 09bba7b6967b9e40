/// Where one argument lies, relative to the start of its command's bytes.
public struct ArgumentSlice: Sendable {
    public var offset: Int
    public var length: Int
    @inline(__always) public init(offset: Int, length: Int) { self.offset = offset; self.length = length }
}

/// A command's arguments as a view into bytes owned by someone else (the
/// connection's input buffer, the inline scratch buffer, or an
/// `OwnedArguments`). Valid only until that owner changes; handlers copy
/// what they keep.
public struct Arguments {
    public let base: UnsafeRawPointer
    let slices: UnsafePointer<ArgumentSlice>
    public let count: Int

    @inline(__always)
    public init(base: UnsafeRawPointer, slices: UnsafePointer<ArgumentSlice>, count: Int) {
        self.base = base
        self.slices = slices
        self.count = count
    }

    @inline(__always)
    public subscript(_ index: Int) -> UnsafeRawBufferPointer {
        let slice = slices[index]
        return UnsafeRawBufferPointer(start: base + slice.offset, count: slice.length)
    }

    /// A copy of argument `index`.
    @inline(__always)
    public func bytes(_ index: Int) -> [UInt8] { Array(self[index]) }

    /// Argument `index` decoded as UTF-8 (invalid bytes are replaced).
    public func string(_ index: Int) -> String { String(decoding: self[index], as: UTF8.self) }

    /// Argument `index` as a lowercased string (command and option names).
    public func lowercased(_ index: Int) -> String {
        String(decoding: self[index].map { ASCII.lower($0) }, as: UTF8.self)
    }

    /// True when argument `index` equals `word` ignoring ASCII case.
    @inline(__always)
    public func matches(_ index: Int, _ word: StaticString) -> Bool {
        ASCII.equalsIgnoringCase(self[index], word)
    }

    /// Copies of all arguments from `start`.
    public func copies(from start: Int = 0) -> [[UInt8]] {
        guard start < count else { return [] }
        return (start..<count).map { bytes($0) }
    }
}

/// Arguments that own their bytes (queued commands, tests, tools).
public final class OwnedArguments {
    public let storage: [UInt8]
    private let slices: UnsafeMutablePointer<ArgumentSlice>
    public let count: Int

    public init(_ arguments: [[UInt8]]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arguments.reduce(0) { $0 + $1.count })
        count = arguments.count
        slices = .allocate(capacity: max(1, arguments.count))
        for (i, argument) in arguments.enumerated() {
            slices[i] = ArgumentSlice(offset: bytes.count, length: argument.count)
            bytes.append(contentsOf: argument)
        }
        storage = bytes
    }

    public convenience init(strings: [String]) { self.init(strings.map { Array($0.utf8) }) }

    public convenience init(_ view: Arguments) { self.init(view.copies()) }

    deinit { slices.deallocate() }

    /// Calls `body` with a view of these arguments.
    public func withArguments<R>(_ body: (Arguments) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            // An empty array has no base address; any valid pointer will do for zero-length slices.
            let base = raw.baseAddress ?? UnsafeRawPointer(slices)
            return try body(Arguments(base: base, slices: slices, count: count))
        }
    }
}

/// ASCII helpers for case-insensitive protocol words.
public enum ASCII {
    @inline(__always)
    public static func lower(_ c: UInt8) -> UInt8 {
        (c >= 65 && c <= 90) ? c | 0x20 : c
    }

    @inline(__always)
    public static func upper(_ c: UInt8) -> UInt8 {
        (c >= 97 && c <= 122) ? c & ~0x20 : c
    }

    @inline(__always)
    public static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count == n else { return false }
        let w = word.utf8Start
        for i in 0..<n where lower(bytes[i]) != lower(w[i]) { return false }
        return true
    }

    public static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ other: [UInt8]) -> Bool {
        guard bytes.count == other.count else { return false }
        for i in 0..<other.count where lower(bytes[i]) != lower(other[i]) { return false }
        return true
    }

    @inline(__always)
    public static func isSpace(_ c: UInt8) -> Bool {
        c == 32 || (c >= 9 && c <= 13)
    }
}
