// swift-tools-version:6.2
import PackageDescription

/// Strict concurrency everywhere: Swift 6 language mode is the default for tools-version 6.x.
let package = Package(
    name: "screen-recorder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recorder-agent", targets: ["recorder-agent"]),
        .executable(name: "recorder-collector", targets: ["recorder-collector"]),
        .executable(name: "x11-scene", targets: ["x11-scene"]),
        .library(name: "RecorderCore", targets: ["RecorderCore"]),
        .library(name: "RecorderAgent", targets: ["RecorderAgent"]),
        .library(name: "StorageClient", targets: ["StorageClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        // Collector: HTTP server, and one SQL code path over two real databases.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
    ],
    targets: [
        // System libraries: each wraps one C library and turns its macros and variadics into typed functions.
        .systemLibrary(
            name: "CX11", pkgConfig: "x11",
            providers: [.apt(["libx11-dev", "libxext-dev", "libxdamage-dev", "libxfixes-dev", "libxrandr-dev"])]),
        // The X11 shims that keep process-wide state (Xlib's error handlers), compiled once.
        .target(name: "CX11Shims", dependencies: ["CX11"]),
        // glibc allocator controls (malloc.h) for the long-lived agent.
        .target(name: "CMemory"),
        .systemLibrary(name: "CVPX", pkgConfig: "vpx", providers: [.apt(["libvpx-dev"])]),
        // Debian's libyuv-dev ships no pkg-config file: the module map links it by name.
        .systemLibrary(name: "CYUV", providers: [.apt(["libyuv-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(
            name: "RecorderCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // WebDAV over libcurl: the agent uploads with it, the collector checks, reads back and probes storage.
        .target(name: "StorageClient", dependencies: ["CCurl"]),
        .target(
            name: "RecorderAgent",
            dependencies: [
                "RecorderCore", "StorageClient", "CX11", "CX11Shims", "CVPX", "CYUV", "CMemory",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "recorder-agent",
            dependencies: [
                "RecorderAgent", "RecorderCore", "StorageClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The collector, by concern: WebDAV pieces (XML, paths, the file store, responses) with no domain;
        // the catalog and domain; the built-in store's server (authorisation, evidence, quotas); the
        // HTTP API and the server that composes them.
        .target(
            name: "WebDAV",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .target(
            name: "CollectorCore",
            dependencies: [
                "RecorderCore", "StorageClient", "WebDAV",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "CollectorStore",
            dependencies: [
                "CollectorCore", "RecorderCore", "WebDAV",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .target(
            name: "CollectorHTTP",
            dependencies: [
                "CollectorCore", "CollectorStore", "RecorderCore", "WebDAV",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The web app: plain HTML, CSS and ES modules, served as they are.
            resources: [.copy("Web")]),
        .executableTarget(
            name: "recorder-collector",
            dependencies: [
                "CollectorCore", "CollectorHTTP", "RecorderCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Benchmarks of the per-segment stages (not shipped).
        .executableTarget(
            name: "recorder-bench",
            dependencies: [
                "RecorderAgent", "RecorderCore", "StorageClient", "TestSupport", "CollectorCore", "CollectorHTTP", "WebDAV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Draws deterministic X11 scenes for the demo, the tests and the benchmarks (never shipped to agents).
        .executableTarget(
            name: "x11-scene",
            dependencies: [
                "CX11",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Real programs for tests (ffmpeg, openssl, Xvfb, our binaries): run, capture, kill.
        .target(name: "TestSupport", dependencies: ["RecorderCore", "StorageClient"], path: "Tests/TestSupport"),
        // The `.realTime` trait: suites that run real programs against the clock take turns (tests only).
        .target(name: "TestTraits", path: "Tests/TestTraits"),
        .testTarget(name: "RecorderCoreTests", dependencies: ["RecorderCore", "TestSupport"], exclude: ["Golden"]),
        .testTarget(
            name: "RecorderAgentTests",
            dependencies: [
                "RecorderAgent", "RecorderCore", "StorageClient", "TestSupport", "TestTraits", "recorder-agent",
                "recorder-collector", "CollectorCore",
                "x11-scene",
            ]),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "CollectorCore", "CollectorHTTP", "CollectorStore", "RecorderCore", "StorageClient", "TestSupport",
                "TestTraits", "WebDAV", "recorder-collector",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ], exclude: ["Golden"]),
    ]
)
