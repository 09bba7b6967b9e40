// swift-tools-version:6.0
// jobd: a job server in one binary. No third-party packages (see DESIGN.md).
import PackageDescription

// The hot modules skip dynamic exclusivity checks in release builds only:
// they cost ~45% of the instructions per command (callgrind), and debug
// builds, where all tests run, keep them on.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "jobd",
    products: [
        .executable(name: "jobd", targets: ["jobd"]),
        // jobd embedded in another program, with closures as job handlers.
        .library(name: "JobdKit", targets: ["JobdKit"]),
    ],
    targets: [
        // C shim: epoll, eventfd, signalfd, futex, accept4 and other GNU-only calls.
        .target(name: "CJobdSystem"),
        .target(name: "JobdSystem", dependencies: ["CJobdSystem"]),
        .target(name: "JobdRESP", dependencies: ["JobdSystem"], swiftSettings: hotPath),
        .target(name: "JobdStore", dependencies: ["JobdRESP"], swiftSettings: hotPath),
        .target(name: "JobdPersistence", dependencies: ["JobdStore"], swiftSettings: hotPath),
        .target(name: "JobdQueue", dependencies: ["JobdPersistence"], swiftSettings: hotPath),
        .target(name: "JobdServer", dependencies: ["JobdQueue"], swiftSettings: hotPath),
        .target(name: "JobdKit", dependencies: ["JobdServer"]),
        .executableTarget(name: "jobd", dependencies: ["JobdServer"]),
        .executableTarget(name: "jobd-embedded-example", dependencies: ["JobdKit"], path: "Examples/EmbeddedWorker"),

        .testTarget(name: "JobdSystemTests", dependencies: ["JobdSystem"]),
        .testTarget(name: "JobdRESPTests", dependencies: ["JobdRESP"]),
        .testTarget(name: "JobdStoreTests", dependencies: ["JobdStore"]),
        .testTarget(name: "JobdPersistenceTests", dependencies: ["JobdPersistence"]),
        .testTarget(name: "JobdQueueTests", dependencies: ["JobdQueue"]),
        .testTarget(name: "JobdServerTests", dependencies: ["JobdServer"]),
        // The CLI's parsers (durations, times, JOBD_URL, flags, tables); the executable is @testable.
        .testTarget(name: "jobdTests", dependencies: ["jobd"]),
    ]
)

// libFuzzer targets (DEVELOPERS.md): only with JOBD_FUZZ set, since
// -sanitize=fuzzer supplies main() and must not touch the normal build.
// scripts/fuzz builds and runs them.
if Context.environment["JOBD_FUZZ"] != nil {
    let fuzz: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    let link: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    // The libraries are instrumented too, so that libFuzzer sees their coverage.
    for target in package.targets where target.type == .regular && target.name.hasPrefix("Jobd") {
        target.swiftSettings = (target.swiftSettings ?? []) + fuzz
    }
    package.targets += [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzRESP", dependencies: ["FuzzDriver", "JobdRESP"], swiftSettings: fuzz, linkerSettings: link),
        .executableTarget(name: "FuzzLog", dependencies: ["FuzzDriver", "JobdPersistence"], swiftSettings: fuzz, linkerSettings: link),
        .executableTarget(name: "FuzzConfig", dependencies: ["FuzzDriver", "JobdServer"], swiftSettings: fuzz, linkerSettings: link),
        .executableTarget(name: "FuzzHTTP", dependencies: ["FuzzDriver", "JobdServer"], swiftSettings: fuzz, linkerSettings: link),
    ]
}
