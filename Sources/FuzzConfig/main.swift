import FuzzDriver
import JobdServer

/// libFuzzer target: the redis.conf-style config loader on arbitrary text
/// (quotes, escapes, units, every directive's value rules).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    let config = ServerConfig()
    do { try ConfigLoader.apply(text, source: "fuzz", to: config) } catch { _ = error.description }
    _ = ConfigLoader.flagsToText(text.split(separator: " ").map(String.init))
    return 0
}

runFuzzer(fuzzConfigLoader)
