import Testing
@testable import JobdRESP

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct ByteBufferTests {
    @Test func appendConsumeAndCompactKeepTheReadableBytes() {
        let buffer = ByteBuffer(capacity: 64)
        #expect(buffer.capacity == 64 && buffer.isEmpty)
        buffer.append(bytes("hello world"))
        buffer.consume(6)
        #expect(buffer.readableArray == bytes("world"))
        #expect(buffer.readIndex == 6 && buffer.writeIndex == 11)
        buffer.compact()
        #expect(buffer.readIndex == 0 && buffer.writeIndex == 5)
        #expect(buffer.readableArray == bytes("world"))
        buffer.consume(5)
        #expect(buffer.isEmpty && buffer.readIndex == 0 && buffer.writeIndex == 0, "consuming everything rewinds")
    }

    @Test func smallCapacitiesAreRoundedUp() {
        #expect(ByteBuffer(capacity: 1).capacity == 64)
    }

    @Test func growingKeepsEveryByte() {
        var rng = SplitMix(seed: 3)
        let buffer = ByteBuffer(capacity: 64)
        var model: [UInt8] = []
        for step in 0..<2000 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let chunk = (0..<Int.random(in: 0...700, using: &rng)).map { UInt8(truncatingIfNeeded: $0 &+ step) }
                buffer.append(chunk); model += chunk
            case 1:
                let n = Int.random(in: 0...model.count, using: &rng)
                buffer.consume(n); model.removeFirst(n)
            case 2:
                buffer.compact()
                #expect(buffer.readIndex == 0)
            default:
                let byte = UInt8(truncatingIfNeeded: step)
                buffer.append(byte); model.append(byte)
            }
            #expect(buffer.readableCount == model.count)
            #expect(buffer.writableCount == buffer.capacity - buffer.writeIndex)
            if buffer.readableArray != model { Issue.record("diverged at step \(step)"); return }
        }
    }

    @Test func reserveMakesRoomCompactingFirst() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append([UInt8](repeating: 1, count: 60))
        buffer.consume(50)
        buffer.reserve(40)
        // 10 readable bytes were moved to the front instead of growing.
        #expect(buffer.capacity == 64 && buffer.readIndex == 0 && buffer.writableCount >= 40)
        buffer.reserve(1000)
        #expect(buffer.capacity >= 1010 && buffer.writableCount >= 1000)
        #expect(buffer.readableArray == [UInt8](repeating: 1, count: 10))
    }

    @Test func writingThroughThePointerAndCommitting() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.reserve(3)
        buffer.writePointer.storeBytes(of: 0x41, toByteOffset: 0, as: UInt8.self)
        buffer.writePointer.storeBytes(of: 0x42, toByteOffset: 1, as: UInt8.self)
        buffer.commitWrite(2)
        #expect(buffer.readableArray == bytes("AB"))
        #expect(buffer.readPointer.load(as: UInt8.self) == 0x41)
    }

    @Test func truncateDropsWhatWasWrittenAfterAMark() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append("+OK\r\n")
        let mark = buffer.writeIndex
        buffer.append("$3\r\nab")
        buffer.truncate(toWriteIndex: mark)
        #expect(buffer.readableArray == bytes("+OK\r\n"))
    }

    @Test func anIdleBufferShrinksBackButABusyOneDoesNot() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append([UInt8](repeating: 0, count: 100_000))
        #expect(buffer.capacity >= 100_000)
        buffer.shrinkIfIdle(to: 1024)
        #expect(buffer.capacity >= 100_000, "not empty: kept")
        buffer.consume(100_000)
        buffer.shrinkIfIdle(to: 1024)
        #expect(buffer.capacity == 1024 && buffer.isEmpty)
        buffer.append(bytes("still works"))
        #expect(buffer.readableArray == bytes("still works"))
    }

    @Test func stringsAndStaticStringsAppendTheirUTF8() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append("static ")
        buffer.append(string: "dynamic é")
        buffer.append(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(buffer.readableArray == bytes("static dynamic é"))
    }
}

@Suite struct CommandEncoderTests {
    @Test func encodedCommandsParseBackToTheSameArguments() {
        let buffer = ByteBuffer(capacity: 64)
        let encoder = CommandEncoder(out: buffer)
        encoder.begin(6)
        encoder.argument("SET")
        encoder.argument(String("key é"))
        encoder.argument((0...255).map { UInt8($0) })
        encoder.argument(Int64.min)
        encoder.argument([UInt8]())
        encoder.argument(Int64(42))
        #expect(buffer.readableArray.prefix(17) == ArraySlice(bytes("*6\r\n$3\r\nSET\r\n$6\r\n")))
        let parser = RequestParser()
        guard case let .command(args) = parser.parse(buffer) else { Issue.record("no command"); return }
        #expect(args.copies() == [bytes("SET"), bytes("key é"), (0...255).map { UInt8($0) },
                                  bytes("-9223372036854775808"), [], bytes("42")])
        // Re-encoding a parsed command gives the same bytes.
        let again = ByteBuffer(capacity: 64)
        CommandEncoder(out: again).command(args)
        #expect(again.readableArray == buffer.readableArray)
    }
}

@Suite struct ArgumentsTests {
    @Test func ownedArgumentsGiveViewsOfTheirBytes() {
        let owned = OwnedArguments(strings: ["SeT", "Key", "", "value"])
        #expect(owned.count == 4)
        owned.withArguments { args in
            #expect(args.count == 4)
            #expect(args.string(1) == "Key")
            #expect(args.bytes(2) == [])
            #expect(args.lowercased(0) == "set")
            #expect(args.matches(0, "set") && args.matches(0, "SET") && !args.matches(0, "se"))
            #expect(args.copies(from: 2) == [[], Array("value".utf8)])
            #expect(args.copies(from: 4) == [])
            let copy = OwnedArguments(args)
            copy.withArguments { #expect($0.copies() == args.copies()) }
        }
        let empty = OwnedArguments([])
        empty.withArguments { #expect($0.count == 0 && $0.copies() == []) }
        let blanks = OwnedArguments([[], []])
        blanks.withArguments { #expect($0.copies() == [[], []]) }
    }

    @Test func asciiHelpersOnlyFoldLetters() {
        #expect(ASCII.lower(UInt8(ascii: "A")) == UInt8(ascii: "a"))
        #expect(ASCII.lower(UInt8(ascii: "[")) == UInt8(ascii: "["))
        #expect(ASCII.lower(UInt8(ascii: "@")) == UInt8(ascii: "@"))
        #expect(ASCII.upper(UInt8(ascii: "z")) == UInt8(ascii: "Z"))
        #expect(ASCII.upper(UInt8(ascii: "{")) == UInt8(ascii: "{"))
        #expect(ASCII.upper(0xE9) == 0xE9)
        for c in [9, 10, 11, 12, 13, 32] as [UInt8] { #expect(ASCII.isSpace(c)) }
        for c in [0, 8, 14, 31, 33, 0xA0] as [UInt8] { #expect(!ASCII.isSpace(c)) }
        let word: [UInt8] = Array("GeT".utf8)
        #expect(Array("get".utf8).withUnsafeBytes { ASCII.equalsIgnoringCase($0, word) })
        #expect(!Array("gets".utf8).withUnsafeBytes { ASCII.equalsIgnoringCase($0, word) })
        #expect(!Array("ge[".utf8).withUnsafeBytes { ASCII.equalsIgnoringCase($0, Array("GE{".utf8)) })
    }
}
