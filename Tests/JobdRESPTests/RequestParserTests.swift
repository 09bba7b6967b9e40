import Testing
@testable import JobdRESP

/// Feeds bytes to a parser the way a connection does and collects commands.
private func parseAll(_ bytes: [UInt8], chunk: Int = Int.max, authRequired: Bool = false,
                      limits: RequestLimits = RequestLimits()) -> (commands: [[String]], error: String?) {
    let parser = RequestParser(limits: limits)
    let buffer = ByteBuffer(capacity: 64)
    var commands: [[String]] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        bytes[offset..<end].withUnsafeBytes { buffer.append($0) }
        offset = end
        loop: while true {
            switch parser.parse(buffer, authRequired: authRequired) {
            case let .command(arguments):
                commands.append((0..<arguments.count).map { arguments.string($0) })
                parser.finishCommand(buffer)
            case .empty:
                parser.finishCommand(buffer)
            case .incomplete:
                break loop
            case let .protocolError(message):
                return (commands, message)
            }
        }
    }
    return (commands, nil)
}

private func multibulk(_ args: String...) -> [UInt8] {
    var out = Array("*\(args.count)\r\n".utf8)
    for a in args { out += Array("$\(a.utf8.count)\r\n\(a)\r\n".utf8) }
    return out
}

@Suite struct RequestParserTests {
    @Test func aMultibulkCommandParsesInOnePiece() {
        let result = parseAll(multibulk("SET", "key", "value"))
        #expect(result.commands == [["SET", "key", "value"]])
        #expect(result.error == nil)
    }

    @Test func everySplitOfAPipelineGivesTheSameCommands() {
        let pipeline = multibulk("SET", "a", "1") + Array("PING\r\n".utf8) + multibulk("LPUSH", "q", "", "xyz")
            + Array("ECHO \"a b\"\r\n".utf8)
        let expected: [[String]] = [["SET", "a", "1"], ["PING"], ["LPUSH", "q", "", "xyz"], ["ECHO", "a b"]]
        for chunk in 1...pipeline.count {
            #expect(parseAll(pipeline, chunk: chunk).commands == expected, "chunk size \(chunk)")
        }
    }

    @Test func aCommandFedOneByteAtATimeIsIncompleteUntilTheLastByte() {
        let bytes = multibulk("GET", "k")
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        for (i, byte) in bytes.enumerated() {
            buffer.append(byte)
            let outcome = parser.parse(buffer)
            if i < bytes.count - 1 {
                guard case .incomplete = outcome else { Issue.record("complete too early at \(i)"); return }
            } else {
                guard case let .command(args) = outcome else { Issue.record("not complete at the end"); return }
                #expect(args.count == 2 && args.string(1) == "k")
            }
        }
    }

    @Test func argumentsSurviveCompactionBetweenReads() {
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64)
        buffer.append(Array("PING\r\n".utf8))
        guard case .command = parser.parse(buffer) else { Issue.record("PING"); return }
        parser.finishCommand(buffer)
        let big = String(repeating: "v", count: 5000)
        let bytes = multibulk("SET", "k", big)
        buffer.append(Array(bytes[0..<27]))  // up to and including "$5000\r\n"
        guard case .incomplete = parser.parse(buffer) else { Issue.record("incomplete expected"); return }
        buffer.compact()
        #expect(parser.pendingBulkBytes == 5002)
        buffer.append(Array(bytes[27...]))
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("command expected"); return }
        #expect(args.string(2) == big)
    }

    @Test func tenThousandPipelinedCommands() {
        var bytes: [UInt8] = []
        for i in 0..<10_000 { bytes += multibulk("INCR", "k\(i)") }
        let result = parseAll(bytes, chunk: 4096)
        #expect(result.commands.count == 10_000)
        #expect(result.commands.last == ["INCR", "k9999"])
    }

    @Test func binaryArgumentsKeepEveryByte() {
        let every = (0...255).map { UInt8($0) }
        var bytes = Array("*2\r\n$3\r\nSET\r\n$256\r\n".utf8) + every + Array("\r\n".utf8)
        bytes += Array("*1\r\n$0\r\n\r\n".utf8)
        let parser = RequestParser()
        let buffer = ByteBuffer()
        buffer.append(bytes)
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("binary"); return }
        #expect(Array(args[1]) == every)
        parser.finishCommand(buffer)
        guard case let .command(empty) = parser.parse(buffer) else { Issue.record("empty arg"); return }
        #expect(empty.count == 1 && empty[0].isEmpty)
    }

    @Test(arguments: [
        ("SET a b\r\n", ["SET", "a", "b"]),
        ("SET a b\n", ["SET", "a", "b"]),
        ("  GET   k  \r\n", ["GET", "k"]),
        ("SET \"a b\" 'c d'\r\n", ["SET", "a b", "c d"]),
        ("ECHO \"\\x41\\x42\\n\"\r\n", ["ECHO", "AB\n"]),
        ("ECHO 'it\\'s'\r\n", ["ECHO", "it's"]),
        ("ECHO \"\"\r\n", ["ECHO", ""]),
    ])
    func inlineCommandsSplitLikeRedis(line: String, expected: [String]) {
        #expect(parseAll(Array(line.utf8)).commands == [expected])
    }

    @Test func blankLinesAndEmptyMultibulksAreIgnored() {
        let result = parseAll(Array("\r\n\n*0\r\n*-1\r\nPING\r\n".utf8))
        #expect(result.commands == [["PING"]])
    }

    @Test(arguments: [
        ("*abc\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n+3\r\n", "Protocol error: expected '$', got '+'"),
        ("ECHO \"abc\r\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request"),
        ("*2000000\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
    ])
    func malformedRequestsGetRedisErrors(input: String, message: String) {
        #expect(parseAll(Array(input.utf8)).error == message)
    }

    @Test func oversizedLinesAreRefused() {
        var limits = RequestLimits()
        limits.maxInlineLength = 100
        #expect(parseAll(Array(String(repeating: "x", count: 200).utf8), limits: limits).error
                == "Protocol error: too big inline request")
        #expect(parseAll(Array(("*" + String(repeating: "1", count: 200)).utf8), limits: limits).error
                == "Protocol error: too big mbulk count string")
        #expect(parseAll(Array(("*1\r\n$" + String(repeating: "1", count: 200)).utf8), limits: limits).error
                == "Protocol error: too big bulk count string")
    }

    @Test func unauthenticatedClientsGetSmallLimits() {
        let many = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        #expect(parseAll(Array(many.utf8), authRequired: true).error == "Protocol error: unauthenticated multibulk length")
        #expect(parseAll(Array(many.utf8), authRequired: false).error == nil)
        #expect(parseAll(Array("*1\r\n$16385\r\n".utf8), authRequired: true).error
                == "Protocol error: unauthenticated bulk length")
    }

    @Test func theBulkLimitIsConfigurable() {
        var limits = RequestLimits()
        limits.maxBulkLength = 10
        #expect(parseAll(multibulk("SET", "k", "0123456789"), limits: limits).error == nil)
        #expect(parseAll(multibulk("SET", "k", "01234567890"), limits: limits).error == "Protocol error: invalid bulk length")
    }
}
