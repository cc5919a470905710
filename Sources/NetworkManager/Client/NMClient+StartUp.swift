import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Waiting for NetworkManager to start (after a restart, a crash, or a checkpoint rollback that
/// restarted it).
extension NMClient {
    /// Returns once NetworkManager owns its bus name and has finished starting up (its
    /// `Startup` property is false), waiting on `NameOwnerChanged` and `PropertiesChanged`.
    func waitUntilRunning(timeout: Duration) async throws {
        let owners: DBusSignalSequence
        do {
            owners = try await connection.signals(matching: DBusMatchRule(
                sender: .bus, path: "/org/freedesktop/DBus", interface: .bus, member: "NameOwnerChanged",
                arguments: [0: Self.service.rawValue]))
        } catch let error as DBusError {
            throw NMError(error)
        }
        if try await !connection.nameHasOwner(Self.service) {
            try await withDeadline(timeout, what: "NetworkManager coming back") {
                for try await signal in owners {
                    if let owner = try? signal.argument(2, as: String.self), !owner.isEmpty { return }
                }
                try Task.checkCancellation()
                throw NMError(.disconnected, "the bus connection ended while waiting for NetworkManager")
            }
        }
        let signals = try await allSignals()
        // NetworkManager takes its bus name before it exports its objects: right after it
        // came back, reading `Startup` can fail with "object does not exist". That means "not
        // ready yet", never "done starting" (docs/networkmanager-quirks.md).
        let startup: Bool = try await withDeadline(timeout, what: "NetworkManager exporting its objects") {
            while true {
                if let value: Bool = try? await self.nmProperty(Self.managerPath, Self.managerInterface, "Startup") { return value }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        guard startup else { return }
        try await withDeadline(timeout, what: "NetworkManager finishing its start-up") {
            for try await signal in signals
            where signal.path == Self.managerPath && signal.interface == .properties && signal.member == "PropertiesChanged" {
                let changed = try? signal.argument(1, as: [String: DBusVariant].self)
                if changed?["Startup"]?.value == .boolean(false) { return }
            }
            try Task.checkCancellation()
            throw NMError(.disconnected, "NetworkManager's signals ended while it was starting up")
        }
    }
}
