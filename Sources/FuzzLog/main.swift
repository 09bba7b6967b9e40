import FuzzDriver
import JobdPersistence

/// libFuzzer target: scanning an append-only log file's bytes (batch
/// headers, lengths, checksums), as loading and check-aof do.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLogScanner(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let scanner = BatchScanner(UnsafeRawBufferPointer(start: data, count: size))
    var batches = 0
    _ = scanner.forEachBatch { payload, offset in
        batches += payload.count > 0 || offset >= 0 ? 1 : 0
        return true
    }
    _ = scanner.nextValidBatch(after: 0)
    return 0
}

runFuzzer(fuzzLogScanner)
