import Glibc
import JobdRESP

/// libFuzzer target: the request parser (multibulk and inline) on arbitrary
/// bytes, fed in two pieces so that resuming mid-command is exercised too.
/// Built only with JOBD_FUZZ=1 (see Package.swift and scripts/fuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var limits = RequestLimits()
    limits.maxBulkLength = 1 << 20
    let parser = RequestParser(limits: limits)
    let buffer = ByteBuffer(capacity: 256)
    let split = size == 0 ? 0 : Int(bytes[0]) % (size + 1)
    for piece in [bytes[0..<split], bytes[split...]] {
        buffer.append(UnsafeRawBufferPointer(rebasing: piece))
        parsing: while true {
            switch parser.parse(buffer, authRequired: split % 2 == 0) {
            case let .command(args):
                // Touch every argument, as a handler would.
                var total = 0
                for i in 0..<args.count { total &+= args[i].count }
                _ = total
                parser.finishCommand(buffer)
            case .empty:
                parser.finishCommand(buffer)
            case .incomplete:
                break parsing
            case .protocolError:
                return 0  // the connection would be closed here
            }
        }
    }
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
exit(runFuzzerDriver(&arguments, &argumentVector, fuzzRequestParser))
