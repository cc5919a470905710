import NetworkManager

/// What the tool prints: one line per device NetworkManager knows, `interface type state`,
/// plus the IPv4 addresses it has, sorted by interface.
///
/// Reads one ``NMHostState`` (`GetManagedObjects` and the IPv4 configurations it names).
public func deviceReport(_ nm: NMClient) async throws -> [String] {
    let state = try await nm.snapshot()
    return state.devices.sorted { $0.interface < $1.interface }.map { device in
        let addresses = state.ipv4Configuration(of: device.path).addresses.map(\.description)
        return ([device.interface.rawValue, "\(device.type)", "\(device.state)"] + addresses).joined(separator: " ")
    }
}

/// Connects to the bus at `address` (`unix:path=...`), or to the system bus when it is nil.
public func connect(address: String?) async throws -> NMClient {
    if let address { return try await NMClient.connect(address: address) }
    return try await NMClient.system()
}
