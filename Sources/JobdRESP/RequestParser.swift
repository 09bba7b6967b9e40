import JobdSystem

import Glibc

/// Limits a request must stay within (DESIGN.md "Limits").
public struct RequestLimits: Sendable {
    /// proto-max-bulk-len: the largest single argument.
    public var maxBulkLength: Int = 512 * 1024 * 1024
    /// The most arguments in one multibulk request.
    public var maxMultibulkLength: Int = 1024 * 1024
    /// The longest inline request line, and the longest length line.
    public var maxInlineLength: Int = 64 * 1024

    public init() {}
}

/// The outcome of one parse attempt.
public enum ParseOutcome {
    /// A whole command; call `finishCommand` once it has been executed.
    case command(Arguments)
    /// An empty request (blank inline line, `*0`): nothing to run; call `finishCommand`.
    case empty
    /// More bytes are needed.
    case incomplete
    /// Malformed input. The message is the Redis error text (after "-ERR ");
    /// the connection must reply with it and close.
    case protocolError(String)
}

/// Incremental parser for RESP multibulk requests and inline commands, as
/// sent by redis-cli, redis-benchmark and `redis-cli --pipe`. It keeps its
/// place between reads, so any split of bytes works and a large request is
/// scanned once. Argument offsets are relative to the start of the current
/// command, so they survive the buffer being compacted between reads.
public final class RequestParser {
    public var limits: RequestLimits

    private enum Mode { case start, multibulk, inline }
    private var mode = Mode.start
    /// Bytes of the current command already parsed (relative to readIndex).
    private var position = 0
    private var multibulkRemaining = 0
    private var bulkLength = -1
    /// Inline requests: how far the search for '\n' got.
    private var inlineScanned = 0
    /// Inline requests: a NUL byte came before any '\n', so this line never
    /// ends (Redis finds the newline with strchr, which stops at a NUL).
    private var inlineBlockedByNul = false

    private var slices: UnsafeMutablePointer<ArgumentSlice>
    private var sliceCapacity: Int
    private var argumentCount = 0
    /// Inline arguments are unescaped into this buffer, not the input.
    private let inlineScratch = ByteBuffer(capacity: 256)

    public init(limits: RequestLimits = RequestLimits()) {
        self.limits = limits
        sliceCapacity = 16
        slices = .allocate(capacity: sliceCapacity)
    }

    deinit { slices.deallocate() }

    /// While a bulk argument is being read: how many bytes, counted from the
    /// buffer's read index, the command needs up to the end of that argument
    /// (0 otherwise). The connection reads a large value in as few calls as possible.
    public var bytesNeededForCurrentBulk: Int {
        mode == .multibulk && bulkLength >= 0 ? position + bulkLength + 2 : 0
    }

    /// Parses the next command at the buffer's read index.
    /// `authRequired` applies Redis' small limits to unauthenticated clients.
    public func parse(_ buffer: ByteBuffer, authRequired: Bool = false) -> ParseOutcome {
        let available = buffer.readableCount
        if mode == .start {
            if available == 0 { return .incomplete }
            mode = buffer.readPointer.load(as: UInt8.self) == UInt8(ascii: "*") ? .multibulk : .inline
            position = 0
        }
        if mode == .multibulk {
            return parseMultibulk(buffer, authRequired: authRequired)
        }
        return parseInline(buffer)
    }

    /// Drops the bytes of the command just returned and resets for the next one.
    @inline(__always)
    public func finishCommand(_ buffer: ByteBuffer) {
        buffer.consume(position)
        mode = .start
        position = 0
        multibulkRemaining = 0
        bulkLength = -1
        inlineScanned = 0
        inlineBlockedByNul = false
        // Give back what a huge command needed, but not on every command.
        if argumentCount > 1024 { releaseLargeState() }
        argumentCount = 0
    }

    /// Forgets any partial command (the connection is closing or resetting).
    public func reset() {
        mode = .start
        position = 0
        multibulkRemaining = 0
        bulkLength = -1
        inlineScanned = 0
        inlineBlockedByNul = false
        argumentCount = 0
        releaseLargeState()
    }

    private func releaseLargeState() {
        if sliceCapacity > 1024 {
            slices.deallocate()
            sliceCapacity = 16
            slices = .allocate(capacity: sliceCapacity)
        }
        inlineScratch.shrinkIfIdle(to: 256)
    }

    // MARK: Multibulk

    private func parseMultibulk(_ buffer: ByteBuffer, authRequired: Bool) -> ParseOutcome {
        let base = UnsafeRawPointer(buffer.readPointer)
        let available = buffer.readableCount
        if multibulkRemaining == 0 && argumentCount == 0 {
            // The "*<count>\r\n" header.
            guard let cr = findCR(base, from: position, to: available) else {
                if available - position > limits.maxInlineLength {
                    return .protocolError("Protocol error: too big mbulk count string")
                }
                return .incomplete
            }
            if cr + 1 >= available { return .incomplete }
            let digits = UnsafeRawBufferPointer(start: base + position + 1, count: cr - position - 1)
            guard let count = parseLength(digits), count <= limits.maxMultibulkLength else {
                return .protocolError("Protocol error: invalid multibulk length")
            }
            if count > 10 && authRequired {
                return .protocolError("Protocol error: unauthenticated multibulk length")
            }
            position = cr + 2
            if count <= 0 { return .empty }
            multibulkRemaining = count
            ensureSliceCapacity(min(count, 1024))
        }
        while multibulkRemaining > 0 {
            if bulkLength < 0 {
                guard let cr = findCR(base, from: position, to: available) else {
                    if available - position > limits.maxInlineLength {
                        return .protocolError("Protocol error: too big bulk count string")
                    }
                    return .incomplete
                }
                if cr + 1 >= available { return .incomplete }
                let marker = base.load(fromByteOffset: position, as: UInt8.self)
                if marker != UInt8(ascii: "$") {
                    let shown = String(decoding: [marker], as: UTF8.self)
                    return .protocolError("Protocol error: expected '$', got '\(shown)'")
                }
                let digits = UnsafeRawBufferPointer(start: base + position + 1, count: cr - position - 1)
                guard let length = parseLength(digits), length >= 0, length <= limits.maxBulkLength else {
                    return .protocolError("Protocol error: invalid bulk length")
                }
                if length > 16384 && authRequired {
                    return .protocolError("Protocol error: unauthenticated bulk length")
                }
                position = cr + 2
                bulkLength = length
            }
            // The bulk plus its trailing CRLF (not checked, as in Redis).
            if available - position < bulkLength + 2 { return .incomplete }
            if argumentCount == sliceCapacity { ensureSliceCapacity(sliceCapacity * 2) }
            slices[argumentCount] = ArgumentSlice(offset: position, length: bulkLength)
            argumentCount += 1
            position += bulkLength + 2
            bulkLength = -1
            multibulkRemaining -= 1
        }
        return .command(Arguments(base: base, slices: slices, count: argumentCount))
    }

    /// Redis' string2ll on a length line; nil when not a valid integer.
    @inline(__always)
    private func parseLength(_ digits: UnsafeRawBufferPointer) -> Int? {
        // Fast path: short all-digit lengths, the common case.
        let n = digits.count
        if n > 0 && n <= 9 {
            var value = 0
            var ok = true
            for i in 0..<n {
                let d = digits[i] &- 48
                if d > 9 { ok = false; break }
                value = value * 10 + Int(d)
            }
            if ok && (n == 1 || digits[0] != 48) { return value }
        }
        guard let value = Numbers.parseInt64(digits) else { return nil }
        return Int(value)
    }

    /// The CR ending a length line, found as Redis finds it: with strchr,
    /// which stops at a NUL byte. A NUL before the CR means the line never
    /// ends for Redis (it waits for more, then refuses the too-long line), so
    /// jobd does the same rather than reading a length Redis would not.
    @inline(__always)
    private func findCR(_ base: UnsafeRawPointer, from: Int, to end: Int) -> Int? {
        guard from < end else { return nil }
        guard let found = memchr(base + from, 13, end - from) else { return nil }
        let cr = UnsafeRawPointer(found) - base
        // Length lines are a few bytes: a plain loop costs less than a second memchr call.
        var i = from
        while i < cr {
            if base.load(fromByteOffset: i, as: UInt8.self) == 0 { return nil }
            i += 1
        }
        return cr
    }

    private func ensureSliceCapacity(_ needed: Int) {
        guard needed > sliceCapacity else { return }
        let bigger = UnsafeMutablePointer<ArgumentSlice>.allocate(capacity: needed)
        bigger.update(from: slices, count: argumentCount)
        slices.deallocate()
        slices = bigger
        sliceCapacity = needed
    }

    // MARK: Inline

    private func parseInline(_ buffer: ByteBuffer) -> ParseOutcome {
        let base = UnsafeRawPointer(buffer.readPointer)
        let available = buffer.readableCount
        guard let newline = findNewline(base, available) else {
            inlineScanned = available
            if available > limits.maxInlineLength {
                return .protocolError("Protocol error: too big inline request")
            }
            return .incomplete
        }
        var lineEnd = newline
        if lineEnd > 0 && base.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 13 { lineEnd -= 1 }
        position = newline + 1
        guard splitInline(UnsafeRawBufferPointer(start: base, count: lineEnd)) else {
            return .protocolError("Protocol error: unbalanced quotes in request")
        }
        if argumentCount == 0 { return .empty }
        return .command(Arguments(base: UnsafeRawPointer(inlineScratch.storage), slices: slices, count: argumentCount))
    }

    /// The '\n' ending the inline line, searched for as Redis does with
    /// strchr: a NUL byte before it hides it for good, and the line then
    /// waits until the inline limit refuses it.
    private func findNewline(_ base: UnsafeRawPointer, _ available: Int) -> Int? {
        guard !inlineBlockedByNul, inlineScanned < available else { return nil }
        let found = memchr(base + inlineScanned, 10, available - inlineScanned)
        let searchEnd = found.map { UnsafeRawPointer($0) - base } ?? available
        if searchEnd > inlineScanned && memchr(base + inlineScanned, 0, searchEnd - inlineScanned) != nil {
            inlineBlockedByNul = true
            return nil
        }
        return found == nil ? nil : searchEnd
    }

    /// Redis' sdssplitargs: spaces separate arguments; "double quotes" take
    /// \n \r \t \b \a \xHH and \" escapes; 'single quotes' take \'; a closing
    /// quote must be followed by a space or the end. (A line holds no NUL:
    /// `findNewline` stops at one, so the 0 checks below only mark the end.)
    private func splitInline(_ line: UnsafeRawBufferPointer) -> Bool {
        inlineScratch.clear()
        argumentCount = 0
        let n = line.count
        var p = 0
        @inline(__always) func at(_ i: Int) -> UInt8 { i < n ? line[i] : 0 }
        while true {
            while p < n && line[p] != 0 && ASCII.isSpace(line[p]) { p += 1 }
            if at(p) == 0 { return true }
            let start = inlineScratch.writeIndex
            var inDouble = false, inSingle = false, done = false
            while !done {
                let c = at(p)
                if inDouble {
                    if c == 92 && at(p + 1) == UInt8(ascii: "x") && isHex(at(p + 2)) && isHex(at(p + 3)) {
                        inlineScratch.append(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)))
                        p += 3
                    } else if c == 92 && at(p + 1) != 0 {
                        p += 1
                        switch at(p) {
                        case UInt8(ascii: "n"): inlineScratch.append(10)
                        case UInt8(ascii: "r"): inlineScratch.append(13)
                        case UInt8(ascii: "t"): inlineScratch.append(9)
                        case UInt8(ascii: "b"): inlineScratch.append(8)
                        case UInt8(ascii: "a"): inlineScratch.append(7)
                        default: inlineScratch.append(at(p))
                        }
                    } else if c == UInt8(ascii: "\"") {
                        if at(p + 1) != 0 && !ASCII.isSpace(at(p + 1)) { return false }
                        done = true
                    } else if c == 0 {
                        return false
                    } else {
                        inlineScratch.append(c)
                    }
                } else if inSingle {
                    if c == 92 && at(p + 1) == UInt8(ascii: "'") {
                        p += 1
                        inlineScratch.append(UInt8(ascii: "'"))
                    } else if c == UInt8(ascii: "'") {
                        if at(p + 1) != 0 && !ASCII.isSpace(at(p + 1)) { return false }
                        done = true
                    } else if c == 0 {
                        return false
                    } else {
                        inlineScratch.append(c)
                    }
                } else {
                    switch c {
                    case 32, 10, 13, 9, 0: done = true
                    case UInt8(ascii: "\""): inDouble = true
                    case UInt8(ascii: "'"): inSingle = true
                    default: inlineScratch.append(c)
                    }
                }
                if at(p) != 0 { p += 1 }
            }
            if argumentCount == sliceCapacity { ensureSliceCapacity(sliceCapacity * 2) }
            slices[argumentCount] = ArgumentSlice(offset: start, length: inlineScratch.writeIndex - start)
            argumentCount += 1
        }
    }

    @inline(__always) private func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }

    @inline(__always) private func hexValue(_ c: UInt8) -> UInt8 {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        default: c - 55
        }
    }
}
