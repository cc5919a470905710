import DownstreamTool
import Glibc  // exit(3) only; everything else comes through DownstreamTool, which imports only NetworkManager

// A stand-in for another team's tool (Examples/nm-inventory and Examples/bridgeify are the
// full ones), on the system bus:
//
//   downstream-tool devices          one line per device: interface, type, state, IPv4 addresses
//   downstream-tool readme-bridge    the README's transaction example: eno1 onto a new bridge br0
//
// Run it on the host it configures: the transaction's gateway probe pings from this process,
// so the tests run it inside the container (`nm-container exec`), never on the test's host.
do {
    let nm = try await connect(address: nil)
    switch CommandLine.arguments.dropFirst().first {
    case "devices":
        for line in try await deviceReport(nm) { print(line) }
    case "readme-bridge":
        let result = try await readmeBridge(nm: nm)
        print("outcome: \(result.outcome.rawValue); end state: \(result.endState.name)")
    default:
        print("usage: downstream-tool devices | readme-bridge")
        exit(2)
    }
} catch {
    print("downstream-tool: \(error)")
    exit(1)
}
