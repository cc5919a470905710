// nm-inventory: prints NetworkManager's version, devices and profiles through the library.
//
// It is the smallest complete use of the NetworkManager module: connect, take one snapshot
// (one GetManagedObjects round trip plus pipelined GetSettings), print it for a person or as JSON.
//
//   nm-inventory                         # the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured)
//   nm-inventory --address unix:path=/tmp/nm-container/demo/dbus/system_bus_socket --json
import ArgumentParser
import Foundation
import NetworkManager

@main
struct Inventory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nm-inventory",
        abstract: "Show NetworkManager's version, devices and connection profiles.",
        discussion: """
            Reads everything in one GetManagedObjects round trip plus the profiles' settings, pipelined.

            Examples:
              nm-inventory
              nm-inventory --address unix:path=/tmp/nm-container/demo/dbus/system_bus_socket
              nm-inventory --json | jq '.devices[].interface'
            """)

    @Option(help: "D-Bus address of the bus NetworkManager is on (default: the system bus).")
    var address: String?

    @Flag(help: "Print one JSON document instead of tables.")
    var json = false

    func run() async throws {
        let nm: NMClient
        do {
            if let address {
                nm = try await NMClient.connect(address: address)
            } else {
                nm = try await NMClient.system()
            }
        } catch {
            throw fail("cannot reach the bus: \(error)")
        }
        let snapshot: NMHostState
        do {
            snapshot = try await nm.snapshot()
        } catch {
            throw fail("cannot read NetworkManager's state: \(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let document = InventoryDocument(snapshot)
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
            return
        }
        print("NetworkManager \(snapshot.version)")
        print("")
        print(table(["DEVICE", "TYPE", "STATE", "MANAGED", "MAC"], snapshot.devices.map {
            [$0.interface.rawValue, $0.type.description, $0.state.description, $0.managed ? "yes" : "no", $0.hardwareAddress ?? "-"]
        }))
        print("")
        print(table(["PROFILE", "UUID", "TYPE", "INTERFACE", "STORAGE"], snapshot.profileSummaries.map {
            [$0.name, $0.uuid.uuidString.lowercased(), $0.type.rawValue, $0.interfaceName?.rawValue ?? "-", $0.unsaved ? "memory" : "disk"]
        }))
    }

    private func fail(_ message: String) -> any Error {
        FileHandle.standardError.write(Data("nm-inventory: \(message)\n".utf8))
        return ExitCode(1)
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// The JSON form: stable keys for automation.
struct InventoryDocument: Encodable {
    struct Device: Encodable { var interface, type, state: String; var managed: Bool; var mac: String?; var path: String }
    struct Profile: Encodable { var name, uuid, type: String; var interface: String?; var inMemory: Bool; var path: String }
    var version: String
    var devices: [Device]
    var profiles: [Profile]

    init(_ s: NMHostState) {
        version = s.version.rawValue
        devices = s.devices.map {
            Device(interface: $0.interface.rawValue, type: $0.type.description, state: $0.state.description, managed: $0.managed,
                   mac: $0.hardwareAddress, path: $0.path.rawValue)
        }
        profiles = s.profileSummaries.map {
            Profile(name: $0.name, uuid: $0.uuid.uuidString.lowercased(), type: $0.type.rawValue, interface: $0.interfaceName?.rawValue, inMemory: $0.unsaved, path: $0.path.rawValue)
        }
    }
}
