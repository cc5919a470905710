import NetworkManager

// The examples of the repository's README.md ("Using the library"), each between a `README:`
// line and `README end` as the README shows it (its `import` lines aside): this file imports
// only NetworkManager, so it compiles only while `import NetworkManager` is enough for all of
// them, DBus's example included (docs/decisions/0006-import-networkmanager-is-enough.md).
// scripts/check-readme-examples fails when the README and this file differ.

/// The README's first example: the host's devices. Compiled, not run by the tests (it reads the
/// system bus, not a container's).
public func readmeDevices() async throws {
    // README: devices
    let nm = try await NMClient.system()          // or NMClient.connect(address: "unix:path=...")
    let state = try await nm.snapshot()           // one GetManagedObjects + pipelined GetSettings
    for device in state.devices { print(device.interface, device.type, device.state) }
    // README end
    _ = state
}

/// The README's second example, on `nm`: eno1's configuration moved onto a new bridge br0 in one
/// transaction. Run by DownstreamToolTests against a container whose eno1 holds the seed profile
/// (192.168.1.200/24, gateway 192.168.1.1).
public func readmeBridge(nm: NMClient) async throws -> NMTransactionResult {
    // README: transaction
    // A change that rolls back by itself if activation, verification or a probe fails, if the
    // task is cancelled, or if this process dies (docs/transactions.md).
    let eno1 = try NMInterfaceName("eno1")        // throws for a name the kernel would refuse
    let oldProfileUUID = try await nm.profiles(named: "eno1")[0].profile.uuid   // eno1's profile until now
    let bridge = try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), stp: false,
                                                ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1"))
    let port = try NMConnectionProfile.bridgePort(name: "br0-port-eno1", interface: eno1, controller: "br0")
    let transaction = NMTransaction([.add(bridge), .add(port), .activate(uuid: bridge.uuid, ports: [eno1]),
                                     .supersede(uuid: oldProfileUUID)], probes: [.gateway()])
    print(try await nm.plan(transaction))         // the diff; nothing changes
    let result = try await nm.apply(transaction)  // .committed, or throws NMError whose transaction
                                                  // report's endState (read back) says .before or what differs
    // README end
    return result
}

/// The README's third example: one error type, with its code, message and hint. Compiled, not
/// run (the test runs the transaction example, whose failures take this path).
public func readmeErrors(nm: NMClient, transaction: NMTransaction) async {
    // README: errors
    do {
        print(try await nm.plan(transaction))
    } catch {                                     // error is an NMError (in a closure's body Swift 6.3
                                                  // does not infer it: `catch let error as NMError`)
        print("\(error.code): \(error.message)", error.hint ?? "")
    }
    // README end
}

/// The README's fourth example: the DBus module by itself (the README imports `DBus`; here
/// `NetworkManager` re-exports it). Compiled, not run: it reads the system bus and never ends.
public func readmeDBus() async throws {
    // README: dbus
    let bus = try await DBusConnection.system()
    let version: String = try await bus.property(
        "Version", of: "org.freedesktop.NetworkManager",
        at: "/org/freedesktop/NetworkManager", on: "org.freedesktop.NetworkManager")
    let changes = try await bus.signals(matching: DBusMatchRule(
        sender: "org.freedesktop.NetworkManager", interface: "org.freedesktop.NetworkManager.Device",
        member: "StateChanged"))                   // subscribed: act now, miss nothing
    for try await signal in changes { print(signal) }
    // README end
    _ = version
}
