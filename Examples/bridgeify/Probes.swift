// Choosing the probes: the checks, run after the library has verified NetworkManager's view,
// that prove the host can still reach what matters. Any probe that fails rolls the whole
// conversion back.
//
// Each NMProbe has a time budget, retries included; the library adds every budget to the
// checkpoint's rollback timeout, so a slow probe cannot outlive the dead-man switch. Probes run
// in this process's network namespace: from the host being changed, as an SSH session would.
import Foundation
import NetworkManager

/// A probe asked for with `--probe`: `tcp:HOST:PORT` or `ping:IPV4`.
struct ProbeSpec: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case tcp(host: String, port: UInt16)
        case ping(IPv4Address)
    }
    var kind: Kind

    init(_ text: String) throws(Rejection) {
        let hint = "write --probe tcp:HOST:PORT (such as tcp:192.168.1.10:22) or --probe ping:IPV4"
        if text.hasPrefix("tcp:") {
            // The port is after the last colon, so that tcp:[2001:db8::1]:22 works too.
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
                throw Rejection(code: "invalid-probe", message: "\"\(text)\" has no valid port", hint: hint)
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw Rejection(code: "invalid-probe", message: "\(NMText.quoted(text)) has no host", hint: hint) }
            if let problem = Self.hostProblem(host) {
                throw Rejection(code: "invalid-probe", message: "\(NMText.quoted(text)): \(problem)", hint: hint)
            }
            kind = .tcp(host: host, port: port)
        } else if text.hasPrefix("ping:") {
            let target: IPv4Address
            do {
                target = try IPv4Address(String(text.dropFirst(5)))
            } catch {
                throw Rejection(code: "invalid-probe", message: "\(NMText.quoted(text)): \(error.message)", hint: hint)
            }
            if let purpose = target.specialPurpose {
                throw Rejection(code: "invalid-probe", message: "\(NMText.quoted(text)): \(target) is \(purpose)", hint: hint)
            }
            kind = .ping(target)
        } else {
            throw Rejection(code: "invalid-probe", message: "unknown probe \(NMText.quoted(text))", hint: hint)
        }
    }

    /// A probe proves that the host still reaches something over the bridge: its target is a
    /// unicast address of another host, or a host name. Loopback would always answer, and
    /// multicast, broadcast or unspecified targets prove nothing.
    static func hostProblem(_ host: String) -> String? {
        let purpose = (try? IPv4Address(host))?.specialPurpose ?? (try? IPv6Address(host))?.specialPurpose
        if let purpose { return "\(host) is \(purpose), which proves nothing about the network" }
        if (try? IPv4Address(host)) != nil || (try? IPv6Address(host)) != nil { return nil }
        // A host name: the grammar of a domain name (the library's search-domain rule, without
        // its routing-only '~' forms).
        if host.hasPrefix("~") || NMText.firstControl(in: host) != nil { return "\(NMText.quoted(host)) is not a host name" }
        do {
            try NMConnectionProfile.validateSearchDomain(host, key: "host")
        } catch {
            return "\(NMText.quoted(host)) is not a host name or address"
        }
        return nil
    }

    func probe(budget: Duration) -> NMProbe {
        switch kind {
        case .tcp(let host, let port): return .tcp(host: host, port: port, budget: budget)
        case .ping(let address): return .ping(address, budget: budget)
        }
    }
}

/// The SSH session this command runs in, from `SSH_CONNECTION` ("CLIENT_IP CLIENT_PORT
/// SERVER_IP SERVER_PORT", set by sshd).
struct SSHSession: Sendable, Hashable {
    var client: String
    var clientPort: String
    var server: String

    init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let fields = (environment["SSH_CONNECTION"] ?? "").split(separator: " ").map(String.init)
        guard fields.count == 4 else { return nil }
        client = fields[0]
        clientPort = fields[1]
        server = fields[2]
    }

    /// Whether the session's packets cross `interface`: the kernel routes replies to the client
    /// out of it (`ip route get CLIENT`), or the session came in to one of its addresses.
    func crosses(_ interface: NMInterfaceName, addresses: [IPv4AddressWithPrefix]) -> Bool {
        if addresses.contains(where: { $0.address.description == server }) { return true }
        if let device = Self.routeDevice(to: client) { return device == interface.rawValue }
        // Without `ip`, be careful: a probe too many costs a few milliseconds, a missing one a session.
        return true
    }

    /// The interface the kernel would send packets to `address` out of.
    static func routeDevice(to address: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/sbin/ip")
        process.arguments = ["-j", "route", "get", address]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let routes = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return nil }
        return routes.first?["dev"] as? String
    }
}

/// The probes of one conversion, and what was left out and why.
struct ProbeChoice: Sendable {
    var probes: [NMProbe] = []
    var notes: [String] = []

    /// How long a probe may take, retries included.
    static let budget: Duration = .seconds(5)
    /// With STP on, the bridge forwards nothing for two forward delays (listening, learning)
    /// after the NIC is attached: 2 x 15 s, plus a margin.
    static let stpDelay: Duration = .seconds(32)

    /// - Parameters:
    ///   - defaults: false with `--no-probe`: no gateway, DHCP or SSH peer probe.
    ///   - gateway: the IPv4 gateway the bridge will use, if known.
    ///   - dhcpAddress: for a DHCP configuration, the address the NIC holds now: the bridge,
    ///     which takes the NIC's MAC, must get it again.
    static func choose(defaults: Bool, extra: [ProbeSpec], gateway: IPv4Address?, dhcpAddress: IPv4Address?,
                       ssh: SSHSession?, interface: NMInterfaceName, interfaceAddresses: [IPv4AddressWithPrefix],
                       bridge: NMInterfaceName, stp: Bool, nm: NMClient) -> ProbeChoice {
        var choice = ProbeChoice()
        // The first network probe waits out STP's forwarding delay; the others then pass at once.
        var delay: Duration = stp ? stpDelay : .zero
        func nextBudget(_ base: Duration) -> Duration {
            defer { delay = .zero }
            return base + delay
        }
        if defaults {
            if let dhcpAddress {
                choice.probes.append(sameDHCPAddress(dhcpAddress, on: bridge, nm: nm))
            }
            if let gateway {
                // NMProbe.gateway() would ping the gateway of the activated profile; a DHCP
                // profile has none written in it, so the gateway is named here instead.
                var probe = NMProbe.ping(gateway, budget: nextBudget(budget))
                probe.name = "gateway \(gateway) answers ICMP echo"
                choice.probes.append(probe)
            } else {
                choice.notes.append("no IPv4 gateway: the gateway probe is left out")
            }
            if let ssh {
                if ssh.crosses(interface, addresses: interfaceAddresses) {
                    if let peer = try? IPv4Address(ssh.client) {
                        var probe = NMProbe.ping(peer, budget: nextBudget(budget))
                        probe.name = "SSH peer \(peer) answers ICMP echo"
                        choice.probes.append(probe)
                    } else {
                        choice.notes.append("the SSH peer \(ssh.client) is not IPv4 and cannot be pinged; add --probe tcp:HOST:PORT")
                    }
                } else {
                    choice.notes.append("the SSH session (peer \(ssh.client)) does not cross \(interface): no peer probe")
                }
            }
        } else {
            choice.notes.append("--no-probe: no gateway or SSH peer probe")
        }
        for spec in extra {
            choice.probes.append(spec.probe(budget: nextBudget(budget)))
        }
        return choice
    }

    /// The bridge holds `address` again: with the NIC's MAC, the DHCP server must hand out the
    /// same lease (else an SSH session to the old address would die).
    static func sameDHCPAddress(_ address: IPv4Address, on bridge: NMInterfaceName, nm: NMClient) -> NMProbe {
        let budget: Duration = .seconds(20)
        return .custom("\(bridge) got the same DHCP address \(address)", budget: budget) {
            let deadline = ContinuousClock.now + budget
            var seen: [IPv4AddressWithPrefix] = []
            while ContinuousClock.now < deadline {
                let device = try await nm.device(named: bridge.rawValue)
                seen = try await nm.ipv4Configuration(of: device.path).addresses
                if seen.contains(where: { $0.address == address }) { return }
                // DHCP may still be running: the library counts a bridge in ip-config as up.
                try await Task.sleep(for: .milliseconds(100))
            }
            throw NMError(.ipConfigFailed, "\(bridge) has \(seen.isEmpty ? "no address" : seen.map(\.description).joined(separator: ", ")), not \(address)",
                          hint: "the DHCP server handed out another address; check its reservations (the bridge has the NIC's MAC)")
        }
    }
}
