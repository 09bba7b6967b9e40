import Glibc

/// libFuzzer's driver. SwiftPM makes each fuzz target's main.swift the
/// program's entry point, which replaces libFuzzer's own main(), so every
/// target hands control to the driver through this.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// Runs libFuzzer with the process's arguments and `target`; never returns.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> Never {
    var arguments = CommandLine.argc
    var argumentVector = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&arguments, &argumentVector, target))
}
