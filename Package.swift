// swift-tools-version:6.0
// jobd: a job server in one binary. No third-party packages (see DESIGN.md).
import PackageDescription

let package = Package(
    name: "jobd",
    products: [
        .executable(name: "jobd", targets: ["jobd"]),
    ],
    targets: [
        // C shim: epoll, eventfd, signalfd, futex, accept4 and other GNU-only calls.
        .target(name: "CJobdSystem"),
        .target(name: "JobdSystem", dependencies: ["CJobdSystem"]),
        .target(name: "JobdRESP", dependencies: ["JobdSystem"]),
        .target(name: "JobdStore", dependencies: ["JobdRESP"]),
        .target(name: "JobdServer", dependencies: ["JobdStore"]),
        .executableTarget(name: "jobd", dependencies: ["JobdServer"]),

        .testTarget(name: "JobdSystemTests", dependencies: ["JobdSystem"]),
        .testTarget(name: "JobdRESPTests", dependencies: ["JobdRESP"]),
        .testTarget(name: "JobdStoreTests", dependencies: ["JobdStore"]),
        .testTarget(name: "JobdServerTests", dependencies: ["JobdServer"]),
    ]
)
