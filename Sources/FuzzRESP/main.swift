import FuzzDriver
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

runFuzzer(fuzzRequestParser)
