import Foundation
import Testing

/// Decision 0003: the library never loads Foundation with ICU, which cost a short-lived command
/// about 10 ms of start-up (issue 6). A file that needs something only Foundation has fails
/// here rather than as a slower benchmark.
@Suite("Library sources and Foundation")
struct FoundationImportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func swiftFiles(in module: String) throws -> [URL] {
        let directory = root.appendingPathComponent("Sources/\(module)")
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    }

    @Test("DBus and NetworkManager import Foundation only where FoundationEssentials is missing",
          arguments: ["DBus", "NetworkManager"])
    func importsFoundationEssentialsOnly(module: String) throws {
        let files = try Self.swiftFiles(in: module)
        #expect(!files.isEmpty)
        for file in files {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                let words = line.split(separator: " ")
                guard words.count >= 2, words.last == "Foundation", words[words.count - 2] == "import" else { continue }
                // Allowed only as the fallback of `#if canImport(FoundationEssentials)`.
                let guarded = index > 0 && lines[index - 1].trimmingCharacters(in: .whitespaces) == "#else"
                #expect(guarded, "\(file.lastPathComponent):\(index + 1): \(line)")
            }
        }
    }
}
