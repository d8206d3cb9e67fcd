// swift-tools-version: 6.0
// Tactus is MIT-licensed (LICENSE); its model is CC BY 4.0 (models/LICENSE); the dependencies and
// their licences are listed in README.md, "Licences".
import PackageDescription

let package = Package(
    name: "Tactus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tactus", targets: ["tactus"]),
        // GPL-2.0-or-later, apart from Tactus: it links Ableton Link (link/LICENSE, link/README.md).
        .executable(name: "tactus-link", targets: ["tactus-link"]),
        .library(name: "TactusCore", targets: ["TactusCore"]),
        .library(name: "TactusIO", targets: ["TactusIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Already in the graph through Hummingbird; named for the web server's own event loop.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // C libraries, through pkg-config.
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        // Counts malloc calls per thread; linked only into tests and benchmarks.
        .target(name: "CAllocCounter"),
        // Tactus's own beat model (models/tactus-beats-v1.tnn), compiled into the binary.
        .target(name: "CTactusModel"),
        // Matrix-vector kernel with AVX2/FMA run-time dispatch (pure computation).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // Layer 1: pure computation (features, network, DBN, beat decision). No I/O.
        .target(name: "TactusCore", dependencies: ["CFFTW", "CKernels"]),
        // Layer 2: I/O (audio files, resampling, model files).
        .target(name: "TactusIO", dependencies: [
            "TactusCore", "CSndfile", "CSoxr", "CALSA", "CTactusModel",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        // Layer 2: the web page, its live transport and /metrics (HTTP on SwiftNIO, Hummingbird 2).
        .target(name: "TactusWeb", dependencies: [
            "TactusCore", "TactusIO",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Layer 3: the executable.
        .executableTarget(name: "tactus", dependencies: [
            "TactusCore", "TactusIO", "TactusWeb",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Ableton Link bridge (issue 22): its own program and licence, talking to the daemon only
        // through the JSON-lines socket. Link is header-only (Debian's ableton-link-dev + libasio-dev).
        .executableTarget(name: "tactus-link", path: "link/Sources/tactus-link",
                          cxxSettings: [.define("LINK_PLATFORM_LINUX", to: "1")],
                          linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m"), .linkedLibrary("stdc++")]),
        // Speed benchmark: cost per hop per stage, allocations per hop.
        .executableTarget(name: "tactus-bench", dependencies: [
            "TactusCore", "TactusIO", "CAllocCounter",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libFuzzer targets (tools/fuzz.sh builds them with -sanitize=fuzzer -DFUZZING).
        .executableTarget(name: "tactus-fuzz", dependencies: ["TactusCore", "TactusIO"]),

        .testTarget(name: "TactusCoreTests", dependencies: ["TactusCore", "CAllocCounter"]),
        .testTarget(name: "TactusIOTests", dependencies: ["TactusIO", "CSndfile", "CAllocCounter"]),
        // Runs the built `tactus` binary: exit codes and messages as a user sees them.
        .testTarget(name: "TactusCLITests", dependencies: ["tactus"]),
        .testTarget(name: "TactusWebTests", dependencies: [
            "TactusWeb", "TactusIO", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "ConformanceTests", dependencies: ["TactusCore", "TactusIO"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
