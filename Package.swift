// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-networkmanager",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DBus", targets: ["DBus"]),
        .library(name: "NetworkManager", targets: ["NetworkManager"]),
        // For other packages' tests: a real NetworkManager in the project's container
        // (docs/testing.md, "Testing your own tool"; Examples/downstream-tool uses it).
        .library(name: "NMTestSupport", targets: ["NMTestSupport"]),
        .executable(name: "nm-inventory", targets: ["nm-inventory"]),
        .executable(name: "bridgeify", targets: ["bridgeify"]),
        .library(name: "NetState", targets: ["NetState"]),
        .executable(name: "netstate", targets: ["netstate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // libdbus-1 through pkg-config. Only Sources/DBus/LibDBus may import it.
        .systemLibrary(
            name: "CDBus",
            pkgConfig: "dbus-1",
            providers: [.apt(["libdbus-1-dev"])]
        ),
        // GLib's GDBus, used only by tests as an independent oracle for our wire encoding.
        // Include flags come from glib-2.0 (GIO's headers share its directory): gio-2.0.pc
        // adds -pthread, which SwiftPM refuses with a warning. The module map links GIO.
        .systemLibrary(
            name: "CGLibOracle",
            path: "Tests/CGLibOracle",
            pkgConfig: "glib-2.0",
            providers: [.apt(["libglib2.0-dev"])]
        ),
        .target(
            name: "DBus",
            dependencies: ["CDBus", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "NetworkManager",
            dependencies: ["DBus", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Starts and stops the project's NetworkManager container and private buses for
        // integration tests, ours and other packages'. The container script ships as its
        // resource (scripts/nm-container is a symlink to it), so that a package depending on
        // this one finds it in the bundle. Tests only; Foundation is fine here (not in
        // NetworkManager: decision 0003). Depends on NetworkManager for NMHostSnapshot (a
        // host's state read through a client, for before/after comparisons).
        .target(
            name: "NMTestSupport",
            dependencies: ["NetworkManager"],
            resources: [.copy("Resources/nm-container")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "nm-inventory",
            dependencies: [
                "NetworkManager",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/nm-inventory",
            swiftSettings: strict
        ),
        // bridgeify's signal handlers from the program's load on, before Swift's main runs.
        .target(name: "CEarlySignals", path: "Examples/early-signals"),
        // SIGINT, SIGTERM and SIGHUP turned into a cancellation of the command's task, from the
        // program's load on: bridgeify's and netstate's (docs/bridgeify.md, "Signals"). Not a product.
        .target(
            name: "CommandSignals",
            dependencies: ["CEarlySignals"],
            path: "Examples/command-signals",
            swiftSettings: strict
        ),
        // Moves a NIC's configuration onto a new bridge as one transaction (docs/bridgeify.md).
        .executableTarget(
            name: "bridgeify",
            dependencies: [
                "NetworkManager", "DBus", "CommandSignals", "NetState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/bridgeify",
            swiftSettings: strict
        ),
        // Our side of the benchmarks (scripts/bench, docs/benchmarks.md). Not a product.
        .executableTarget(
            name: "nm-bench",
            dependencies: [
                "NetworkManager", "DBus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/nm-bench",
            swiftSettings: strict
        ),
        .testTarget(
            name: "DBusTests",
            dependencies: ["DBus", "CDBus", "CGLibOracle"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DBusIntegrationTests",
            dependencies: ["DBus", "NMTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NetworkManagerTests",
            dependencies: ["NetworkManager", "DBus"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        // Runs one library operation and prints the outcome as JSON: how integration tests see
        // what a caller of another uid gets (they run it with setpriv). Tests only.
        .executableTarget(
            name: "nm-testtool",
            dependencies: ["NetworkManager", "DBus"],
            path: "Tests/NMTestTool",
            swiftSettings: strict
        ),
        .testTarget(
            name: "NetworkManagerIntegrationTests",
            dependencies: ["NetworkManager", "DBus", "NMTestSupport", "nm-testtool"],
            swiftSettings: strict
        ),
        // Runs the built bridgeify inside NetworkManager containers (docs/bridgeify.md). Depends
        // on the executable so that it is built first; the tests find it next to their bundle.
        .testTarget(
            name: "BridgeifyIntegrationTests",
            dependencies: ["NetworkManager", "DBus", "NMTestSupport", "bridgeify"],
            swiftSettings: strict
        ),
        // bridgeify's own logic, without a bus: the changes a conversion plans (issue 12).
        .testTarget(
            name: "BridgeifyUnitTests",
            dependencies: ["bridgeify", "NetState", "NetworkManager", "DBus"],
            swiftSettings: strict
        ),
        // Declarative host state in nmstate's schema (docs/netstate.md), above NetworkManager.
        .target(
            name: "NetState",
            dependencies: ["NetworkManager", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "netstate",
            dependencies: [
                "NetState", "NetworkManager", "CommandSignals",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/netstate",
            swiftSettings: strict
        ),
        .testTarget(
            name: "NetStateTests",
            dependencies: ["NetState", "NetworkManager"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NetStateIntegrationTests",
            dependencies: ["NetState", "NetworkManager", "NMTestSupport", "netstate"],
            swiftSettings: strict
        ),
        // The VM tier (scripts/nm-vm, docs/testing.md): reboots and power cuts in a QEMU guest.
        // Runs only with NM_TEST_VM=1 (scripts/test's VM pass); builds bridgeify to run in the guest.
        .testTarget(
            name: "VMIntegrationTests",
            dependencies: ["NMTestSupport", "bridgeify"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
