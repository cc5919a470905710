import Foundation

/// The path of an executable target built with the tests (`swift build` puts it next to the
/// test bundle), falling back to `.build/debug/NAME` in the package root.
public func builtExecutable(_ name: String, filePath: String = #filePath) -> String {
    let bundle = Bundle.main.bundleURL
    let candidates = [bundle.deletingLastPathComponent().appendingPathComponent(name).path,
                      bundle.appendingPathComponent(name).path]
    // #filePath is Sources/NMTestSupport/BuiltExecutable.swift: three levels below the root.
    let build = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)").path
    return (candidates + [build]).first { FileManager.default.isExecutableFile(atPath: $0) } ?? build
}
