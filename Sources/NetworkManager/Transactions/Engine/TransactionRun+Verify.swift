import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The steps that check the host: verify (stored, applied and kernel state) and the probes.
extension TransactionRun {
    /// NetworkManager's view of the result against the desired state: addresses and gateway
    /// on each activated profile's device, each port attached to its controller, the MAC.
    ///
    /// When the first comparison fails, it is made again each time NetworkManager signals a
    /// change that could settle it (a device's state, addresses or gateway, an active
    /// connection's devices or controller, a MAC), for up to 2 s, and once more at the end;
    /// nothing sleeps. Seen on NetworkManager 1.52 (IPv4 duplicate address detection is on by
    /// default from 1.46): the bridge reports `activated` while its `IP4Config` still lists no
    /// address, and `AddressData` follows 130-160 ms later (docs/networkmanager-quirks.md).
    func verify(_ prepared: NMClient.Prepared) async throws {
        let applied = prepared.plan.steps.contains { $0.kind == .reapply || $0.kind == .reactivate || ($0.kind == .activate && prepared.modifies[$0.uuid] != nil) }
        try await step(.verify, "addresses, gateway, ports, MAC" + (applied ? ", applied connections, routes, DNS" : "")) {
            // Subscribed before the first read (the kept rule: no round trip), so that a change
            // landing between a read and the wait is not missed.
            let signals = try await client.allSignals()
            do {
                try await verifyOnce(prepared)
                return
            } catch let problem as NMError {
                client.logger?.debug("verify: waiting for NetworkManager", metadata: ["first attempt": "\(problem.message)"])
            }
            /// A signal after which the comparison may come out differently.
            @Sendable func mayChangeOutcome(_ signal: DBusSignal) -> Bool {
                if signal.member == "StateChanged" { return signal.interface.rawValue == "org.freedesktop.NetworkManager.Device" }
                guard signal.interface == .properties, signal.member == "PropertiesChanged",
                    let changed = try? signal.argument(1, as: [String: DBusVariant].self)
                else { return false }
                let relevant: Set<String> = ["State", "AddressData", "Addresses", "Gateway", "Ip4Config", "HwAddress",
                                             "ActiveConnection", "Devices", "Controller", "Master", "RouteData", "NameserverData"]
                return changed.keys.contains(where: relevant.contains)
            }
            let settled = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { [self] in
                    for try await signal in signals where mayChangeOutcome(signal) {
                        do {
                            try await verifyOnce(prepared)
                            return true
                        } catch is NMError {
                            continue
                        }
                    }
                    return false  // NetworkManager left the bus, or cancelled: the last read says
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            // The last word: passes, or throws what still differs.
            if !settled { try await verifyOnce(prepared) }
        }
    }

    func verifyOnce(_ prepared: NMClient.Prepared) async throws {
        // Devices, active connections and port attachments from one read.
        let host = try await client.managedObjects(withProfiles: false)
        func deviceNamed(_ name: String) async throws -> NMDevice {
            if let known = host.device(named: name), known.isReal { return known }
            return try await client.device(named: name)
        }
        for planned in prepared.plan.steps where planned.kind == .activate {
            guard let profile = prepared.adds[planned.uuid] ?? prepared.modifies[planned.uuid] ?? prepared.existing[planned.uuid]?.profile,
                let interface = profile.interfaceName?.rawValue
            else { continue }
            let device = try await deviceNamed(interface)
            guard device.state == .activated else {
                throw NMError(.activationFailed, "\(interface) is \(device.state), not activated")
            }
            if let ipv4 = profile.ipv4, ipv4.method == .manual {
                let config = host.ipv4[device.path] ?? NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: [])
                for address in ipv4.addresses where !config.addresses.contains(address) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks \(address) (has \(config.addresses.map(\.description).joined(separator: ", ")))")
                }
                if let gateway = ipv4.gateway, config.gateway != gateway, ipv4.neverDefault != true {
                    throw NMError(.ipConfigFailed, "\(interface)'s gateway is \(config.gateway?.description ?? "none"), not \(gateway)")
                }
            }
            if case .address(let mac)? = profile.ethernet?.assignedMACAddress,
                device.hardwareAddress?.lowercased() != mac.description.lowercased()
            {
                throw NMError(.failed, "\(interface)'s MAC is \(device.hardwareAddress ?? "none"), not \(mac)")
            }
            for port in planned.ports {
                let portDevice = try await deviceNamed(port)
                guard host.isPort(portDevice.path, of: [device.path]) else {
                    throw NMError(.activationFailed, "\(port) is not attached to \(interface)")
                }
            }
        }
        try await verifyApplied(prepared, host: host, deviceNamed: deviceNamed)
    }

    /// A modified profile that is active (reapplied, reactivated, or activated by the
    /// transaction): each of its devices must run it. The device's applied connection
    /// (`Device.GetAppliedConnection`) is compared with the profile as NetworkManager stores it
    /// now (so both sides are normalised alike; the staging tags in `user.data` aside), and
    /// what NetworkManager reads back from the kernel (`IP4Config`: addresses, routes, DNS)
    /// must hold the profile's static addresses, routes and DNS servers. A change that was
    /// stored but did not reach the device, or that the kernel refused (a route whose next
    /// hop is not reachable), fails here, and the transaction rolls back.
    func verifyApplied(_ prepared: NMClient.Prepared, host: NMClient.HostObjects,
                       deviceNamed: (String) async throws -> NMDevice) async throws {
        for planned in prepared.plan.steps {
            let interfaces: [String]
            switch planned.kind {
            case .reapply, .reactivate: interfaces = planned.devices
            case .activate: interfaces = [prepared.modifies[planned.uuid]?.interfaceName?.rawValue].compactMap { $0 }
            default: continue
            }
            guard let desired = prepared.modifies[planned.uuid], let stored = prepared.existing[planned.uuid], !interfaces.isEmpty else { continue }
            let reference = try NMClient.planText(try await client.profile(at: stored.path).profile, codec: prepared.codec)
            for interface in interfaces {
                let device = try await deviceNamed(interface)
                guard device.state == .activated else {
                    throw NMError(.activationFailed, "\(interface) is \(device.state), not activated")
                }
                let applied = try await client.appliedProfile(of: device.path).profile
                // Not `connection.autoconnect(-priority)`: they are nothing a device runs, and an
                // applied connection can keep a stale value (the planner ignores them too).
                let differences = NMTransactionPlan.diff(from: try NMClient.planText(applied, codec: prepared.codec), to: reference)
                    .filter { !NMTransactionPlan.isProfileOnly(setting: $0.setting, key: $0.key) }
                guard differences.isEmpty else {
                    throw NMError(.failed, "\(interface) does not run \(desired.name) as stored: its applied connection differs in "
                                  + differences.map { "\($0.setting).\($0.key)" }.joined(separator: ", "),
                                  hint: "the change was stored but did not reach the device; it was rolled back")
                }
                guard let ipv4 = desired.ipv4, ipv4.method != .disabled else { continue }
                let config = host.ipv4[device.path] ?? NMIPv4Configuration(addresses: [], gateway: nil, dnsServers: [])
                for address in ipv4.addresses where !config.addresses.contains(address) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks \(address) (has \(config.addresses.map(\.description).joined(separator: ", ")))")
                }
                // Routes in the main table (RouteData lists others with their table too).
                for route in ipv4.routes where route.attributes["table"] == nil {
                    let present = config.routes.contains {
                        $0.destination == route.destination && $0.nextHop == route.nextHop && (route.metric == nil || $0.metric == route.metric)
                    }
                    guard present else {
                        throw NMError(.ipConfigFailed, "\(interface) lacks the route \(route) (has \(config.routes.map(\.description).joined(separator: ", ")))",
                                      hint: "NetworkManager applied the profile but the kernel does not have the route: is its next hop reachable?")
                    }
                }
                for server in ipv4.dns where !config.dnsServers.contains(server) {
                    throw NMError(.ipConfigFailed, "\(interface) lacks the DNS server \(server) (has \(config.dnsServers.map(\.description).joined(separator: ", ")))")
                }
            }
        }
    }

    func runProbes(gateway: IPv4Address?) async throws {
        for probe in transaction.probes {
            do {
                try await step(.probe, probe.name) {
                    let context = NMProbeContext(gateway: gateway, deadline: ContinuousClock.now + probe.budget)
                    // The probe's own retries stop at its deadline; this outer bound only catches
                    // a probe that ignores it, and reports it as the probe's failure.
                    try await withDeadline(probe.budget + .seconds(1), what: "probe \(probe.name)", timeoutError: {
                        NMError(.timeout, "no success within its \(probe.budget) budget",
                                hint: "the change cut connectivity it should keep; it was rolled back")
                    }) {
                        try await probe.body(context)
                    }
                }
            } catch let failure as StepFailure where failure.error is NMProbeSkipped {
                progress?(.finished(NMTransactionStepRecord(step: .probe, detail: "\(probe.name): skipped", milliseconds: 0)))
            } catch let failure as StepFailure {
                var cause = Self.nmError(failure.error)
                cause.message = "\(probe.name): \(cause.message)"
                cause.hint = cause.hint ?? "the change cut connectivity it should keep; it was rolled back"
                throw StepFailure(step: .probe, error: cause)
            }
        }
    }
}
