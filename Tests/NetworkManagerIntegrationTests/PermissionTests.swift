import DBus
import Foundation
import NMTestSupport
import NetworkManager
import Testing

/// A caller that is not root. The container's NetworkManager runs with `auth-polkit=root-only`:
/// root may do everything, every other user gets PermissionDenied, as on a host where polkit
/// denies the action. The library is run as `nobody` through nm-testtool.
@Suite(.serialized)
struct PermissionTests {
    /// nm-testtool, built next to this test bundle.
    static var tool: String { builtExecutable("nm-testtool") }

    func runAsNobody(_ arguments: [String]) throws -> ToolOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Self.tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(ToolOutcome.self, from: data)
    }

    @Test func aNonRootCallerGetsTheTypedPermissionErrorAndNothingChanges() async throws {
        try await withNMContainer(nics: ["eno1", "eno2"], eno1Static: true) { container in
            let nm = try await container.client()
            let before = try await normalisedSettings(nm)

            // Reading is allowed.
            let read = try runAsNobody([container.busAddress, "read"])
            #expect(read.ok, "\(read)")
            #expect(read.detail?.contains("eno1") == true)

            // Adding a profile is not: the typed error names the polkit action to grant.
            let add = try runAsNobody([container.busAddress, "add-profile", "sneaky", "eno2"])
            #expect(!add.ok)
            #expect(add.code == NMError.Code.permissionDenied.rawValue, "\(add)")
            #expect(add.dbusName?.hasSuffix("PermissionDenied") == true)
            #expect(add.hint?.contains("org.freedesktop.NetworkManager.settings.modify.system") == true, "\(add.hint ?? "")")

            // Nor is a checkpoint.
            let checkpoint = try runAsNobody([container.busAddress, "checkpoint"])
            #expect(checkpoint.code == NMError.Code.permissionDenied.rawValue, "\(checkpoint)")
            #expect(checkpoint.hint?.contains("checkpoint-rollback") == true, "\(checkpoint.hint ?? "")")

            // Nor activating.
            let activate = try runAsNobody([container.busAddress, "activate", "eno1"])
            #expect(activate.code == NMError.Code.permissionDenied.rawValue, "\(activate)")
            #expect(activate.hint?.contains("network-control") == true, "\(activate.hint ?? "")")

            // Nothing changed.
            #expect(try await normalisedSettings(nm) == before)
            #expect(try await nm.checkpoints().isEmpty)
        }
    }
}
