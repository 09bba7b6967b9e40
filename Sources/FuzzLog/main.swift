import Glibc
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

// SwiftPM makes this file the program's entry point, which replaces
// libFuzzer's own main(): hand control to libFuzzer's driver explicitly.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

var arguments = CommandLine.argc
var argumentVector = CommandLine.unsafeArgv
exit(runFuzzerDriver(&arguments, &argumentVector, fuzzLogScanner))
