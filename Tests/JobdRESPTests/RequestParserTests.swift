import Testing
@testable import JobdRESP

/// What a sequence of parse calls produced.
struct ParseResult: Equatable {
    var commands: [[[UInt8]]] = []
    var error: String?

    var strings: [[String]] { commands.map { $0.map { String(decoding: $0, as: UTF8.self) } } }
}

/// Feeds `bytes` to a parser the way a connection does: each piece is
/// appended, then every complete command in the buffer is taken.
func parsePieces(_ pieces: [ArraySlice<UInt8>], authRequired: Bool = false,
                 limits: RequestLimits = RequestLimits(), compactBetweenReads: Bool = false) -> ParseResult {
    let parser = RequestParser(limits: limits)
    let buffer = ByteBuffer(capacity: 64)
    var result = ParseResult()
    for piece in pieces {
        if compactBetweenReads { buffer.compact() }
        piece.withUnsafeBytes { buffer.append($0) }
        loop: while true {
            switch parser.parse(buffer, authRequired: authRequired) {
            case let .command(arguments):
                result.commands.append(arguments.copies())
                parser.finishCommand(buffer)
            case .empty:
                parser.finishCommand(buffer)
            case .incomplete:
                break loop
            case let .protocolError(message):
                result.error = message
                return result
            }
        }
    }
    return result
}

func parseAll(_ bytes: [UInt8], chunk: Int = Int.max, authRequired: Bool = false,
              limits: RequestLimits = RequestLimits()) -> ParseResult {
    var pieces: [ArraySlice<UInt8>] = []
    var offset = 0
    while offset < bytes.count {
        let end = offset + min(chunk, bytes.count - offset)
        pieces.append(bytes[offset..<end])
        offset = end
    }
    return parsePieces(pieces, authRequired: authRequired, limits: limits)
}

func parseAll(_ text: String, authRequired: Bool = false, limits: RequestLimits = RequestLimits()) -> ParseResult {
    parseAll(Array(text.utf8), authRequired: authRequired, limits: limits)
}

/// A RESP multibulk request, as clients send it.
func multibulk(_ arguments: [[UInt8]]) -> [UInt8] {
    var out = Array("*\(arguments.count)\r\n".utf8)
    for a in arguments {
        out += Array("$\(a.count)\r\n".utf8)
        out += a
        out += [13, 10]
    }
    return out
}

func multibulk(_ arguments: String...) -> [UInt8] { multibulk(arguments.map { Array($0.utf8) }) }

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Whether an outcome is `.incomplete` (ParseOutcome is not Equatable: it holds pointers).
private func isIncomplete(_ outcome: ParseOutcome) -> Bool {
    if case .incomplete = outcome { return true }
    return false
}

@Suite struct RequestParserTests {
    // MARK: Whole commands and splits

    @Test func aMultibulkCommandParsesInOnePiece() {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(multibulk("SET", "key", "value"))
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("no command"); return }
        #expect(args.count == 3)
        #expect(args.copies() == [bytes("SET"), bytes("key"), bytes("value")])
        parser.finishCommand(buffer)
        #expect(buffer.isEmpty)
        #expect(isIncomplete(parser.parse(buffer)))
    }

    @Test func aCommandFedOneByteAtATimeIsIncompleteUntilTheLastByte() {
        let request = multibulk("LPUSH", "queue", "", "payload with spaces\r\n")
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        for (i, byte) in request.enumerated() {
            buffer.append(byte)
            let outcome = parser.parse(buffer)
            if i < request.count - 1 {
                #expect(isIncomplete(outcome), "complete too early at byte \(i)")
            } else if case let .command(args) = outcome {
                #expect(args.copies() == [bytes("LPUSH"), bytes("queue"), [], bytes("payload with spaces\r\n")])
            } else {
                Issue.record("not a command after the last byte: \(outcome)")
            }
        }
        parser.finishCommand(buffer)
        #expect(buffer.readableCount == 0)
    }

    @Test func anInlineCommandFedOneByteAtATimeIsIncompleteUntilTheNewline() {
        let request = bytes("SET \"a b\" c\r\n")
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        for (i, byte) in request.enumerated() {
            buffer.append(byte)
            let outcome = parser.parse(buffer)
            if i < request.count - 1 {
                #expect(isIncomplete(outcome), "complete too early at byte \(i)")
            } else if case let .command(args) = outcome {
                #expect(args.copies() == [bytes("SET"), bytes("a b"), bytes("c")])
            } else {
                Issue.record("not a command after the newline: \(outcome)")
            }
        }
    }

    static let pipeline: [UInt8] = multibulk("SET", "a", "1") + bytes("PING\r\n") + multibulk("LPUSH", "q", "", "xyz")
        + bytes("ECHO \"a b\"\r\n") + bytes("\r\n") + bytes("*0\r\n") + multibulk("GET", "a")
    static let pipelineCommands: [[String]] = [["SET", "a", "1"], ["PING"], ["LPUSH", "q", "", "xyz"], ["ECHO", "a b"], ["GET", "a"]]

    @Test func aPipelineSplitAtEveryPossibleBoundaryGivesTheSameCommands() {
        let p = Self.pipeline
        for i in 0...p.count {
            let result = parsePieces([p[0..<i], p[i...]])
            #expect(result.strings == Self.pipelineCommands, "split at \(i)")
            #expect(result.error == nil)
        }
    }

    @Test func aPipelineSplitAtEveryPairOfBoundariesGivesTheSameCommands() {
        let p = Self.pipeline
        for i in 0...p.count {
            for j in i...p.count {
                let result = parsePieces([p[0..<i], p[i..<j], p[j...]], compactBetweenReads: (i + j) % 2 == 0)
                if result.strings != Self.pipelineCommands || result.error != nil {
                    Issue.record("splits at \(i) and \(j): \(result.strings) \(result.error ?? "")")
                    return
                }
            }
        }
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func aPipelineReadInFixedChunksGivesTheSameCommands(chunk: Int) {
        #expect(parseAll(Self.pipeline, chunk: chunk).strings == Self.pipelineCommands)
    }

    @Test func thousandsOfPipelinedCommandsAllArriveInOrder() {
        var request: [UInt8] = []
        var expected: [[String]] = []
        for i in 0..<10_000 {
            if i % 3 == 0 {
                request += bytes("INCR k\(i)\r\n")
            } else {
                request += multibulk("SET", "k\(i)", String(repeating: "v", count: i % 50))
            }
            expected.append(i % 3 == 0 ? ["INCR", "k\(i)"] : ["SET", "k\(i)", String(repeating: "v", count: i % 50)])
        }
        // Uneven reads, as from a socket.
        var rng = SplitMix(seed: 11)
        var pieces: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < request.count {
            let end = min(request.count, offset + Int.random(in: 1...3000, using: &rng))
            pieces.append(request[offset..<end])
            offset = end
        }
        let result = parsePieces(pieces)
        #expect(result.error == nil)
        #expect(result.commands.count == 10_000)
        #expect(result.strings == expected)
    }

    @Test func finishCommandConsumesExactlyOneCommand() {
        let first = multibulk("SET", "a", "1")
        let second = bytes("PING\r\n")
        let third = multibulk("GET", "a")
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(first + second + third + Array(third[0..<5]))
        let total = buffer.readableCount
        guard case .command = parser.parse(buffer) else { Issue.record("first"); return }
        #expect(buffer.readableCount == total, "parse alone must not consume")
        parser.finishCommand(buffer)
        #expect(buffer.readableCount == total - first.count)
        guard case let .command(ping) = parser.parse(buffer) else { Issue.record("second"); return }
        #expect(ping.copies() == [bytes("PING")])
        parser.finishCommand(buffer)
        #expect(buffer.readableCount == total - first.count - second.count)
        guard case let .command(get) = parser.parse(buffer) else { Issue.record("third"); return }
        #expect(get.copies() == [bytes("GET"), bytes("a")])
        parser.finishCommand(buffer)
        #expect(buffer.readableArray == Array(third[0..<5]))
        #expect(isIncomplete(parser.parse(buffer)))
    }

    @Test func anEmptyRequestIsConsumedByFinishCommand() {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(bytes("*0\r\n\r\nPING\r\n"))
        guard case .empty = parser.parse(buffer) else { Issue.record("*0 is empty"); return }
        parser.finishCommand(buffer)
        #expect(buffer.readableArray == bytes("\r\nPING\r\n"))
        guard case .empty = parser.parse(buffer) else { Issue.record("blank line is empty"); return }
        parser.finishCommand(buffer)
        #expect(buffer.readableArray == bytes("PING\r\n"))
    }

    // MARK: Buffer moves between reads

    @Test func argumentsSurviveCompactionBetweenReads() {
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        buffer.append(bytes("PING\r\n"))
        let big = bytes(String(repeating: "v", count: 5000))
        let request = multibulk([bytes("SET"), bytes("k"), big])
        // The first command and part of the second, so that the second starts past index 0.
        buffer.append(Array(request[0..<27]))  // up to and including "$5000\r\n"
        guard case .command = parser.parse(buffer) else { Issue.record("PING"); return }
        parser.finishCommand(buffer)
        #expect(buffer.readIndex > 0)
        #expect(isIncomplete(parser.parse(buffer)))
        buffer.compact()
        #expect(buffer.readIndex == 0)
        // 27 header bytes of this command plus the 5000-byte value and its CRLF.
        #expect(parser.bytesNeededForCurrentBulk == 27 + 5002)
        buffer.append(Array(request[27..<1000]))
        #expect(isIncomplete(parser.parse(buffer)))
        buffer.append(Array(request[1000...]))
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("command expected"); return }
        #expect(args.copies() == [bytes("SET"), bytes("k"), big])
    }

    @Test func argumentsSurviveTheBufferBeingReallocatedBetweenReads() {
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        var arguments: [[UInt8]] = [bytes("RPUSH"), bytes("q")]
        for i in 0..<40 { arguments.append((0..<(i * 997 % 3001)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }) }
        let request = bytes("PING\r\n") + multibulk(arguments)
        var offset = 0
        var parsed: [[UInt8]]?
        var pings = 0
        var step = 0
        while offset < request.count {
            // Grow the reads so that the 64-byte buffer is reallocated several times mid-command.
            let end = min(request.count, offset + 1 + step * 37)
            buffer.append(Array(request[offset..<end]))
            offset = end
            step += 1
            loop: while true {
                switch parser.parse(buffer) {
                case let .command(args):
                    if args.count == 1 { pings += 1 } else { parsed = args.copies() }
                    parser.finishCommand(buffer)
                case .incomplete: break loop
                default: Issue.record("unexpected outcome"); return
                }
            }
            if step % 5 == 0 { buffer.compact() }
        }
        #expect(buffer.capacity > 64, "the buffer should have grown")
        #expect(pings == 1)
        #expect(parsed == arguments)
    }

    // MARK: Binary safety

    @Test func binaryArgumentsKeepEveryByteValueAndEmptyArgumentsAreKept() {
        let every = (0...255).map { UInt8($0) }
        let arguments: [[UInt8]] = [bytes("SET"), every, [], [13, 10], bytes("$3\r\n"), [0], every.reversed(), []]
        let result = parseAll(multibulk(arguments) + multibulk([[]]))
        #expect(result.error == nil)
        #expect(result.commands == [arguments, [[]]])
        // And read one byte at a time.
        #expect(parseAll(multibulk(arguments), chunk: 1).commands == [arguments])
    }

    @Test func aNulByteHidesTheEndOfAnInlineLineUntilTheLimitRefusesIt() {
        // Redis finds the newline with strchr, which stops at the NUL: the
        // line never ends, nothing runs, and the inline limit closes it.
        let line = bytes("SET a b") + [0] + bytes(" c\r\nPING\r\n")
        let waiting = parseAll(line)
        #expect(waiting.commands.isEmpty && waiting.error == nil)
        #expect(parseAll(line, chunk: 1).commands.isEmpty)
        var limits = RequestLimits()
        limits.maxInlineLength = 100
        let padded = line + [UInt8](repeating: UInt8(ascii: "x"), count: 100)
        #expect(parseAll(padded, chunk: 7, limits: limits).error == "Protocol error: too big inline request")
        #expect(parseAll(padded, limits: limits).commands.isEmpty)
        // A command before the NUL line still runs.
        #expect(parseAll(bytes("PING\r\n") + line).strings == [["PING"]])
    }

    @Test func aNulByteHidesTheEndOfALengthLine() {
        var limits = RequestLimits()
        limits.maxInlineLength = 100
        let pad = [UInt8](repeating: UInt8(ascii: "x"), count: 200)
        let countLine = bytes("*1") + [0] + bytes("\r\n$4\r\nPING\r\n")
        #expect(parseAll(countLine).commands.isEmpty && parseAll(countLine).error == nil)
        #expect(parseAll(countLine + pad, limits: limits).error == "Protocol error: too big mbulk count string")
        let bulkLine = bytes("*1\r\n$4") + [0] + bytes("\r\nPING\r\n")
        #expect(parseAll(bulkLine).commands.isEmpty && parseAll(bulkLine).error == nil)
        #expect(parseAll(bulkLine + pad, chunk: 13, limits: limits).error == "Protocol error: too big bulk count string")
        // A NUL where the '$' belongs is no '$' error either: the line has no end.
        let marker = bytes("*1\r\n") + [0] + bytes("$4\r\nPING\r\n")
        #expect(parseAll(marker + pad, limits: limits).error == "Protocol error: too big bulk count string")
        // NUL bytes inside a bulk are data, as always.
        #expect(parseAll(multibulk([bytes("SET"), [0, 13, 0], [0]])).commands == [[bytes("SET"), [0, 13, 0], [0]]])
    }

    // MARK: Inline commands

    @Test(arguments: [
        ("SET a b\r\n", ["SET", "a", "b"]),
        ("SET a b\n", ["SET", "a", "b"]),
        ("  GET   k  \r\n", ["GET", "k"]),
        ("GET\tk\r\n", ["GET", "k"]),
        ("SET \"a b\" 'c d'\r\n", ["SET", "a b", "c d"]),
        ("ECHO \"\\x41\\n\"\r\n", ["ECHO", "A\n"]),
        ("ECHO \"\\x41\\x42\\n\"\r\n", ["ECHO", "AB\n"]),
        ("ECHO \"\\r\\t\\b\\a\\\\\\\"\"\r\n", ["ECHO", "\r\t\u{8}\u{7}\\\""]),
        ("ECHO \"\\x4g\"\r\n", ["ECHO", "x4g"]),
        ("ECHO \"\\q\"\r\n", ["ECHO", "q"]),
        ("ECHO 'it\\'s'\r\n", ["ECHO", "it's"]),
        ("ECHO 'a\\nb'\r\n", ["ECHO", "a\\nb"]),
        ("ECHO \"\"\r\n", ["ECHO", ""]),
        ("ECHO ''\r\n", ["ECHO", ""]),
        ("ECHO a\"b c\" d\r\n", ["ECHO", "ab c", "d"]),
        ("ECHO \"a\"\tb\r\n", ["ECHO", "a", "b"]),
    ])
    func inlineCommandsSplitLikeRedis(line: String, expected: [String]) {
        let result = parseAll(line)
        #expect(result.error == nil)
        #expect(result.strings == [expected])
    }

    @Test func inlineCommandsWithManyArgumentsKeepThemAll() {
        let words = (0..<3000).map { "w\($0)" }
        let result = parseAll(words.joined(separator: " ") + "\r\n")
        #expect(result.strings == [words])
        // The parser gives back the big slice table and keeps working.
        #expect(parseAll(words.joined(separator: " ") + "\r\nPING\r\n").strings == [words, ["PING"]])
    }

    @Test(arguments: ["\r\n", "\n", "   \r\n", "\t \n"])
    func aBlankLineIsAnEmptyRequest(line: String) {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(bytes(line))
        guard case .empty = parser.parse(buffer) else { Issue.record("\(line.debugDescription) is not empty"); return }
        parser.finishCommand(buffer)
        #expect(buffer.isEmpty)
    }

    @Test(arguments: ["*0\r\n", "*-1\r\n", "*-5\r\n"])
    func aMultibulkCountOfZeroOrLessIsAnEmptyRequest(header: String) {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(bytes(header + "PING\r\n"))
        guard case .empty = parser.parse(buffer) else { Issue.record("\(header.debugDescription) is not empty"); return }
        parser.finishCommand(buffer)
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("PING after \(header)"); return }
        #expect(args.copies() == [bytes("PING")])
    }

    // MARK: Protocol errors

    @Test(arguments: [
        ("*abc\r\n", "Protocol error: invalid multibulk length"),
        ("*\r\n", "Protocol error: invalid multibulk length"),
        ("*01\r\n", "Protocol error: invalid multibulk length"),
        ("*1 \r\n", "Protocol error: invalid multibulk length"),
        ("*99999999999999999999\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$+3\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n+3\r\n", "Protocol error: expected '$', got '+'"),
        ("*2\r\n$1\r\na\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
        ("ECHO \"abc\r\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO 'abc\r\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO \"a\"b\r\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO a\"b c\"d\r\n", "Protocol error: unbalanced quotes in request"),
        ("*2000000\r\n", "Protocol error: invalid multibulk length"),
    ])
    func malformedRequestsGetRedisErrors(input: String, message: String) {
        #expect(parseAll(input).error == message)
        // The same error however the bytes arrive.
        #expect(parseAll(bytes(input), chunk: 1).error == message)
    }

    @Test func theBulkLimitIsConfigurable() {
        var limits = RequestLimits()
        limits.maxBulkLength = 10
        #expect(parseAll(multibulk("SET", "k", "0123456789"), limits: limits).error == nil)
        #expect(parseAll(multibulk("SET", "k", "01234567890"), limits: limits).error == "Protocol error: invalid bulk length")
        // The length line is refused before the bulk itself arrives.
        #expect(parseAll("*1\r\n$11\r\n", limits: limits).error == "Protocol error: invalid bulk length")
    }

    @Test func theMultibulkLimitIsEnforced() {
        var limits = RequestLimits()
        limits.maxMultibulkLength = 5
        let five = multibulk("a", "b", "c", "d", "e")
        #expect(parseAll(five, limits: limits).commands.count == 1)
        #expect(parseAll("*6\r\n", limits: limits).error == "Protocol error: invalid multibulk length")
        // The default is 1024 * 1024, as DESIGN.md says.
        #expect(RequestLimits().maxMultibulkLength == 1_048_576)
        #expect(parseAll("*1048576\r\n").error == nil)
        #expect(parseAll("*1048577\r\n").error == "Protocol error: invalid multibulk length")
    }

    @Test func anInlineRequestWithoutNewlinePastTheLimitIsRefused() {
        var limits = RequestLimits()
        limits.maxInlineLength = 100
        #expect(parseAll(String(repeating: "x", count: 100), limits: limits).error == nil)
        #expect(parseAll(String(repeating: "x", count: 101), limits: limits).error == "Protocol error: too big inline request")
        // Arriving in small reads, the limit applies to the whole unterminated line.
        #expect(parseAll(bytes(String(repeating: "x", count: 101)), chunk: 10, limits: limits).error
                == "Protocol error: too big inline request")
        // The default limit is 64 KiB.
        #expect(parseAll(String(repeating: "x", count: 64 * 1024)).error == nil)
        #expect(parseAll(String(repeating: "x", count: 64 * 1024 + 1)).error == "Protocol error: too big inline request")
    }

    @Test func oversizedLengthLinesAreRefused() {
        var limits = RequestLimits()
        limits.maxInlineLength = 100
        #expect(parseAll("*" + String(repeating: "1", count: 200), limits: limits).error
                == "Protocol error: too big mbulk count string")
        #expect(parseAll("*1\r\n$" + String(repeating: "1", count: 200), limits: limits).error
                == "Protocol error: too big bulk count string")
        #expect(parseAll("*" + String(repeating: "1", count: 50), limits: limits).error == nil)
    }

    @Test func unauthenticatedClientsGetSmallLimits() {
        let ten = "*10\r\n" + String(repeating: "$1\r\na\r\n", count: 10)
        let eleven = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        #expect(parseAll(ten, authRequired: true).commands.count == 1)
        #expect(parseAll(eleven, authRequired: true).error == "Protocol error: unauthenticated multibulk length")
        #expect(parseAll(eleven, authRequired: false).error == nil)
        let small = multibulk([bytes("AUTH"), [UInt8](repeating: 97, count: 16384)])
        #expect(parseAll(small, authRequired: true).commands.count == 1)
        #expect(parseAll("*1\r\n$16385\r\n", authRequired: true).error == "Protocol error: unauthenticated bulk length")
        #expect(parseAll("*1\r\n$16385\r\n", authRequired: false).error == nil)
    }

    // MARK: State

    @Test func bytesNeededForCurrentBulkCountsFromTheCommandStartToTheEndOfTheBulk() {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        #expect(parser.bytesNeededForCurrentBulk == 0)
        buffer.append(bytes("*2\r\n$3\r\nSET\r\n$1048576\r\n"))  // 23 bytes
        #expect(isIncomplete(parser.parse(buffer)))
        #expect(parser.bytesNeededForCurrentBulk == 23 + 1_048_578)
        buffer.append([UInt8](repeating: 1, count: 500_000))
        #expect(isIncomplete(parser.parse(buffer)))
        #expect(parser.bytesNeededForCurrentBulk == 23 + 1_048_578)
        buffer.append([UInt8](repeating: 1, count: 548_576) + [13, 10])
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("command"); return }
        #expect(args[1].count == 1_048_576)
        #expect(parser.bytesNeededForCurrentBulk == 0)
        parser.finishCommand(buffer)
        // Inline requests never have a pending bulk.
        buffer.append(bytes("SET a"))
        #expect(isIncomplete(parser.parse(buffer)))
        #expect(parser.bytesNeededForCurrentBulk == 0)
    }

    @Test func resetForgetsAPartialCommand() {
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(bytes("*3\r\n$3\r\nSET\r\n$1\r\n"))
        #expect(isIncomplete(parser.parse(buffer)))
        parser.reset()
        buffer.clear()
        buffer.append(bytes("PING\r\n"))
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("PING after reset"); return }
        #expect(args.copies() == [bytes("PING")])
    }

    @Test func aHugeCommandIsFollowedByOrdinaryOnes() {
        let many = (0..<5000).map { bytes("m\($0)") }
        let request = multibulk([bytes("SADD"), bytes("s")] + many) + multibulk("GET", "a") + bytes("PING\r\n")
        let result = parseAll(request, chunk: 777)
        #expect(result.commands.count == 3)
        #expect(result.commands.first == [bytes("SADD"), bytes("s")] + many)
        #expect(result.strings.dropFirst() == [["GET", "a"], ["PING"]])
    }

    @Test func theSameParserHandlesInlineAndMultibulkInTurn() {
        var request: [UInt8] = []
        var expected: [[String]] = []
        for i in 0..<200 {
            if i % 2 == 0 {
                request += bytes("SET k\(i) \"v \(i)\"\n")
                expected.append(["SET", "k\(i)", "v \(i)"])
            } else {
                request += multibulk("SET", "k\(i)", "v \(i)")
                expected.append(["SET", "k\(i)", "v \(i)"])
            }
        }
        for chunk in [1, 5, 33, 1000] {
            #expect(parseAll(request, chunk: chunk).strings == expected, "chunk \(chunk)")
        }
    }
}

/// A small seeded generator so failures can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
