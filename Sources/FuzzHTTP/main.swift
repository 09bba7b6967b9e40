import FuzzDriver
import JobdServer

/// libFuzzer target: the HTTP request parser on arbitrary bytes (request
/// lines, headers, lengths, pipelined requests, percent-encoding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    HTTPRequestParser.exercise(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

runFuzzer(fuzzHTTPParser)
