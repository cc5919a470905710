// swift-tools-version: 6.0
// A package of another team's, written as they would write it: a tool that uses the library,
// and a test that runs it against a real NetworkManager in the project's container. It depends
// on the products `NetworkManager` and `NMTestSupport` and on nothing else of this repository:
// no copied files, no environment variables. Here the dependency is this checkout, by path;
// another team writes `.package(url: "<this repository>", from: "<version>")` instead.
//
// scripts/test builds and tests it (as root: the test starts a container), with its own build
// directory, Examples/downstream-tool/.build. docs/testing.md, "Testing your own tool".
import PackageDescription

let package = Package(
    name: "downstream-tool",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` sets the identity that `.product(..., package:)` names: a path dependency's
        // identity is otherwise its directory's name, which depends on how it was checked out.
        .package(name: "swift-networkmanager", path: "../.."),
    ],
    targets: [
        // Imports NetworkManager and nothing else: it compiles only while that is enough for
        // the tool and for every example of the README (ReadmeExamples.swift).
        .target(
            name: "DownstreamTool",
            dependencies: [.product(name: "NetworkManager", package: "swift-networkmanager")]
        ),
        .executableTarget(
            name: "downstream-tool",
            dependencies: ["DownstreamTool", .product(name: "NetworkManager", package: "swift-networkmanager")]
        ),
        .testTarget(
            name: "DownstreamToolTests",
            dependencies: [
                // The executable too, so that it is built before the tests, which run it inside
                // the container (NMTestSupport's builtExecutable finds it next to the tests).
                "DownstreamTool", "downstream-tool",
                .product(name: "NetworkManager", package: "swift-networkmanager"),
                .product(name: "NMTestSupport", package: "swift-networkmanager"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
