import Testing
import JobdRESP
@testable import JobdPersistence

/// A log of `count` batches built the way the engine builds them.
private func makeLog(batches count: Int) -> (bytes: [UInt8], offsets: [Int], payloads: [[UInt8]]) {
    let builder = BatchBuilder()
    var bytes: [UInt8] = []
    var offsets: [Int] = []
    var payloads: [[UInt8]] = []
    for i in 0..<count {
        builder.select(i % 3)
        let e = builder.encoder
        e.begin(3); e.argument("SET"); e.argument("key:\(i)"); e.argument(String(repeating: "v", count: i * 7))
        let sealed = Array(builder.seal())
        offsets.append(bytes.count)
        payloads.append(Array(sealed[BatchFormat.headerSize...]))
        bytes += sealed
        builder.reset()
    }
    return (bytes, offsets, payloads)
}

private func scan(_ bytes: [UInt8]) -> (payloads: [[UInt8]], ending: BatchScanner.Ending) {
    var payloads: [[UInt8]] = []
    let ending = bytes.withUnsafeBytes { raw in
        BatchScanner(raw).forEachBatch { payload, _ in payloads.append(Array(payload)); return true }
    }
    return (payloads, ending)
}

@Suite struct BatchFormatTests {
    @Test func batchesRoundTrip() {
        let log = makeLog(batches: 20)
        let result = scan(log.bytes)
        #expect(result.ending == .clean)
        #expect(result.payloads == log.payloads)
        #expect(String(decoding: log.bytes.prefix(BatchFormat.headerSize), as: UTF8.self).hasPrefix("*3\r\n$10\r\nJOBD.BATCH\r\n$10\r\n"))
    }

    @Test func aLogTornAtEveryByteOfTheLastBatchKeepsEverythingBefore() {
        let log = makeLog(batches: 5)
        let lastStart = log.offsets.last!
        for cut in lastStart..<log.bytes.count {
            let result = scan(Array(log.bytes[..<cut]))
            #expect(result.payloads == Array(log.payloads.dropLast()), "cut at \(cut)")
            let expected: BatchScanner.Ending = cut == lastStart ? .clean : .tornTail(offset: lastStart)
            #expect(result.ending == expected, "cut at \(cut)")
        }
    }

    @Test func aFlippedBitInTheMiddleIsACorruptMiddleNotATornTail() {
        let log = makeLog(batches: 6)
        let damaged = log.offsets[2]
        // Every byte of the third batch, header included, with one bit flipped.
        for position in damaged..<log.offsets[3] {
            var bytes = log.bytes
            bytes[position] ^= 0x10
            let result = scan(bytes)
            #expect(result.payloads == Array(log.payloads[0..<2]), "flip at \(position)")
            #expect(result.ending == .corruptMiddle(offset: damaged, nextValid: log.offsets[3]), "flip at \(position)")
        }
    }

    @Test func aDamagedLastBatchIsATornTailEvenWhenItIsComplete() {
        var log = makeLog(batches: 3)
        log.bytes[log.bytes.count - 3] ^= 1
        #expect(scan(log.bytes).ending == .tornTail(offset: log.offsets[2]))
    }

    @Test func garbageAfterTheLastBatchIsATornTail() {
        let log = makeLog(batches: 2)
        #expect(scan(log.bytes + Array("garbage".utf8)).ending == .tornTail(offset: log.bytes.count))
        #expect(scan(Array("*3\r\n$3\r\nSET\r\n".utf8)).ending == .tornTail(offset: 0))
        #expect(scan([]).ending == .clean)
    }

    @Test func theChecksumIsCRC32C() {
        // The standard check value of CRC-32C is 0xE3069283 for "123456789".
        let crc = Array("123456789".utf8).withUnsafeBytes { cjobdCRC($0) }
        #expect(crc == 0xE306_9283)
    }

    @Test func aManifestRoundTripsAndRejectsNonsense() throws {
        let manifest = Manifest(entries: [
            Manifest.Entry(name: "appendonly.aof.2.base.aof", sequence: 2, kind: .base),
            Manifest.Entry(name: "appendonly.aof.3.incr.aof", sequence: 3, kind: .incremental),
        ])
        #expect(try Manifest.parse(manifest.text) == manifest)
        #expect(manifest.lastSequence == 3)
        #expect(throws: Manifest.ParseError.self) { try Manifest.parse("") }
        #expect(throws: Manifest.ParseError.self) { try Manifest.parse("file a seq x type i\n") }
        #expect(throws: Manifest.ParseError.self) { try Manifest.parse("file ../a seq 1 type i\n") }
        #expect(throws: Manifest.ParseError.self) {
            try Manifest.parse("file a seq 1 type i\nfile b seq 2 type b\n")
        }
    }
}

import CJobdSystem
private func cjobdCRC(_ bytes: UnsafeRawBufferPointer) -> UInt32 { cjobd_crc32c(0, bytes.baseAddress, bytes.count) }
