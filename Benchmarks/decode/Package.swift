// swift-tools-version: 6.0
// The marshalling benchmark (docs/benchmarks.md, item 5): decodes captured NetworkManager
// replies with the DBus module's own decoder, which is internal (LibDBusMessage), hence
// `@testable import DBus` and a package of its own: it is built only by scripts/bench, with
//
//   swift build -c release --package-path Benchmarks/decode --scratch-path .build-bench/decode \
//       -Xswiftc -enable-testing
//
// so that the main package's release builds never need -enable-testing. (A public or @_spi
// entry point for "decode these bytes" in the DBus module would make this package unnecessary.)
import PackageDescription

let package = Package(
    name: "nm-bench-decode",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "swift-networkmanager", path: "../..")],
    targets: [
        .executableTarget(
            name: "nm-bench-decode",
            dependencies: [.product(name: "DBus", package: "swift-networkmanager")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
