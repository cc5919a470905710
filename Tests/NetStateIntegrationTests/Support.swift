import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

// Support for NetStateIntegrationTests. "Everything a test compares" is NMTestSupport's
// `NMHostSnapshot`, shared with BridgeifyIntegrationTests.

/// Every netstate test, one at a time: each starts its own container.
@Suite(.serialized)
struct NetStateScenarios {}

let netstatePath: String = builtExecutable("netstate")

struct NetStateRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var report: [String: Any]?
    var result: String? { report?["result"] as? String }
    var hostState: String? { report?["state"] as? String }
    var errorPath: String? { (report?["error"] as? [String: Any])?["path"] as? String }
    var planSteps: [[String: Any]] { ((report?["plan"] as? [String: Any])?["steps"] as? [[String: Any]]) ?? [] }
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

extension NMContainer {
    /// Runs netstate inside the container (its namespace and bus), `--json` unless told otherwise.
    func netstate(_ arguments: [String], json: Bool = true, timeout: Double = 180) async throws -> NetStateRun {
        let command = [netstatePath] + arguments + (json ? ["--json"] : [])
        let output = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.exec(command, timeout: timeout) }) }
        }
        var run = NetStateRun(status: output.status, stdout: output.stdout, stderr: output.stderr)
        if json, arguments.first != "show" {
            run.report = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        }
        return run
    }

    /// `netstate apply` of `yaml`, written to a file the container can read.
    func apply(_ yaml: String, _ extra: [String] = []) async throws -> NetStateRun {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netstate-\(UUID().uuidString).yml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try await netstate(["apply", file] + extra)
    }

    func client() async throws -> NMClient { try await NMClient.connect(address: busAddress) }

    func kernelAddresses(_ interface: String) throws -> [String] {
        try ipJSON(["addr", "show", "dev", interface]).flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }.compactMap {
            guard let local = $0["local"] as? String, let prefix = $0["prefixlen"] as? Int, ($0["scope"] as? String) == "global"
            else { return nil }
            return "\(local)/\(prefix)"
        }.sorted()
    }

    func controller(of interface: String) throws -> String? {
        try ipJSON(["link", "show", "dev", interface]).first?["master"] as? String
    }
}


/// Expects the host of `container` to equal `expected` now, and says what differs if not.
func expectSnapshot(_ container: NMContainer, _ client: NMClient, equals expected: NMHostSnapshot,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let now = try await NMHostSnapshot.take(container, client)
    #expect(now == expected, "the host differs: \(now.differences(from: expected).joined(separator: "; "))", sourceLocation: sourceLocation)
}

