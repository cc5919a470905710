// The conversion, from reading the host to committing.
//
//   1. Check the input locally (names, addresses, probes): nothing is asked of anyone yet.
//   2. Connect, and ask NetworkManager whether this user may change networking at all.
//   3. Read the interface (InterfaceReading) and refuse what does not fit: no such interface,
//      not Ethernet, loopback, unmanaged, already a port of something else, a bridge name
//      that is taken, a checkpoint that is not ours.
//   4. Already converted? Restate the end state as a transaction: its plan is empty, say so.
//   5. Design the profiles (ConversionDesign) and the probes (ProbeChoice).
//   6. `nm.plan(transaction)` for --dry-run; `nm.apply(transaction)` otherwise. The library does
//      the rest: checkpoint, stage, activate, run our hook (Neighbours.swift: the NIC's neighbour
//      entries carried onto the bridge), verify, probe, commit, or roll back.
//
// Everything before step 6 only reads, so any problem found there is a `rejected` outcome:
// nothing was changed.
import CommandSignals
import ArgumentParser
import Foundation
import NetState
import NetworkManager
import Synchronization

struct ConvertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Move INTERFACE's configuration onto a new bridge (the default command: `bridgeify eno1`).")

    @Argument(help: "The Ethernet interface whose configuration moves onto the bridge, such as eno1.")
    var interface: String

    @Option(help: ArgumentHelp("Name of the new bridge (1-15 characters).", valueName: "name"))
    var bridge = "br0"

    @Option(name: .customLong("ipv4"), help: ArgumentHelp(
        "Static IPv4 address with prefix for the bridge (repeatable); replaces the interface's.", valueName: "address/prefix"))
    var ipv4: [String] = []

    @Option(help: ArgumentHelp("IPv4 gateway for the bridge.", valueName: "address"))
    var gateway: String?

    @Option(name: .customLong("ipv6"), help: ArgumentHelp(
        "Static IPv6 address with prefix for the bridge (repeatable); replaces the interface's.", valueName: "address/prefix"))
    var ipv6: [String] = []

    @Option(name: .customLong("gateway6"), help: ArgumentHelp("IPv6 gateway for the bridge.", valueName: "address"))
    var gateway6: String?

    @Option(help: ArgumentHelp("DNS server, IPv4 or IPv6 (repeatable); replaces the interface's.", valueName: "address"))
    var dns: [String] = []

    @Option(name: .customLong("dns-search"), help: ArgumentHelp("DNS search domain (repeatable).", valueName: "domain"))
    var dnsSearch: [String] = []

    @Flag(help: "The bridge gets its IPv4 address by DHCP.")
    var dhcp = false

    @Flag(name: .customLong("ipv6-auto"), help: "The bridge configures IPv6 from router advertisements (SLAAC/DHCPv6).")
    var ipv6Auto = false

    @Flag(help: "Turn spanning tree on (off by default: it stalls traffic ~30 s during the conversion; the rollback timeout grows to cover it).")
    var stp = false

    @Option(name: .customLong("rollback-timeout"), help: ArgumentHelp(
        "Seconds NetworkManager waits before restoring the host by itself if this process dies; probe budgets and 1 s for the neighbour step are added.",
        valueName: "seconds"))
    var rollbackTimeout = 30

    @Option(name: .customLong("probe"), help: ArgumentHelp(
        "An extra check that must pass after the change: tcp:HOST:PORT or ping:IPV4 (repeatable).", valueName: "probe"))
    var probes: [String] = []

    @Flag(name: .customLong("no-probe"), help: "Do not probe the gateway, the DHCP lease or the SSH peer (--probe ones still run).")
    var noProbe = false

    @Option(help: ArgumentHelp(
        "Leave the change pending: it reverts by itself after this many seconds unless `bridgeify confirm` runs.",
        valueName: "seconds"))
    var confirm: Int?

    @Flag(name: .customLong("dry-run"), help: "Print the plan (each step and the settings it writes, as a diff); change nothing.")
    var dryRun = false

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let output = Output(json: common.json)
        var report = Report(command: "convert", result: .rejected, interface: interface, bridge: bridge)
        do {
            try await convert(output, &report)
        } catch {
            // Everything that can fail outside `apply` only reads (apply's own failures are
            // reported in convert): nothing was changed by this conversion.
            report.result = .rejected
            report.state = "before"
            if let signal = Interruption.shared.signalName {
                report.error = .init(code: "interrupted", message: "interrupted by \(signal) before anything was changed",
                                     hint: "bridgeify was stopped (Ctrl-C, a kill, or its SSH session hung up); run it again")
            } else if let rejection = error as? Rejection {
                report.error = .init(code: rejection.code, message: rejection.message, hint: rejection.hint)
            } else if let error = error as? NMError {
                report.error = .init(code: error.code.rawValue, message: error.message, hint: error.hint)
            } else {
                report.error = .init(code: "failed", message: "\(error)")
            }
        }
        if report.result == .rejected, report.summary == nil {
            report.summary = report.cleanedUp.isEmpty ? "Nothing was changed."
                : "The conversion changed nothing; before it, bridgeify undid what an interrupted conversion had left: "
                    + report.cleanedUp.joined(separator: ", ") + "."
        }
        report.steps = output.steps
        report.elapsedMilliseconds = output.elapsedMilliseconds
        output.finish(report)
        throw ExitCode(report.result.exitCode)
    }

    // MARK: - The steps

    func convert(_ output: Output, _ report: inout Report) async throws {
        // 1. The input, checked before anything is asked of NetworkManager.
        let started = ContinuousClock.now
        let interface = try Self.interfaceName(self.interface, what: "interface")
        let bridge = try Self.interfaceName(self.bridge, what: "bridge")
        guard bridge != interface else {
            throw Rejection(code: "invalid-bridge-name", message: "the bridge cannot have the interface's own name (\(bridge))",
                            hint: "choose another name with --bridge, such as br0")
        }
        let request = try ipRequest()
        var extraProbes: [ProbeSpec] = []
        for text in probes { extraProbes.append(try ProbeSpec(text)) }
        guard (1...3600).contains(rollbackTimeout) else {
            throw Rejection(code: "invalid-arguments", message: "--rollback-timeout \(rollbackTimeout) is outside 1...3600 seconds",
                            hint: "the default, 30 s, suits most hosts")
        }
        if let confirm, !(10...86_400).contains(confirm) {
            throw Rejection(code: "invalid-arguments", message: "--confirm \(confirm) is outside 10...86400 seconds",
                            hint: "give yourself time to reconnect and run `bridgeify confirm`, such as --confirm 120")
        }

        // 2. NetworkManager. Whether this user may change networking is not asked beforehand
        //    (GetPermissions, one call): the transaction's first write, the record added before
        //    the checkpoint, is refused by polkit just as well, before anything changed, and
        //    CheckpointCreate right after it (docs/transactions.md, "Fewer calls").
        let nm = try await common.client()

        // 3. The interface as it is now (one read of the host, used by everything below).
        //    NetworkManager's signals are subscribed first (the two AddMatch calls the
        //    transaction makes anyway, moved before the read): the read then also starts the
        //    client's mirror of NetworkManager's objects, which serves the transaction's read
        //    after activation (docs/transactions.md, "Fewer calls").
        if !dryRun { try await nm.followChanges() }
        var reading = try await InterfaceReading.read(interface, with: nm)
        if !dryRun {
            // Staged profiles of a transaction whose checkpoint died with NetworkManager (a
            // crash half way) are inert, but they would hold the bridge's name: clear them.
            let removed = try await nm.removeStaleTransactions(basedOn: reading.snapshot)
            if !removed.isEmpty {
                report.cleanedUp = removed
                report.warnings.append("cleaned up after an interrupted conversion: \(removed.joined(separator: ", "))")
                // Their devices go down and the interface's own profile autoconnects again:
                // read the host once that is over.
                try await Self.settle(interface, bridge: bridge, nm)
                reading = try await InterfaceReading.read(interface, with: nm)
            }
        }
        output.record("inspect", Self.describe(reading, interface), since: started)

        let checksStarted = ContinuousClock.now
        var design: ConversionDesign
        if let controller = reading.controller {
            // 4. Already a port. Of this bridge: restate the end state, and let the plan say
            //    whether anything is left to do. Of anything else: refuse.
            guard controller.interface == bridge else {
                throw Rejection(code: "already-a-port", message: "\(interface) is already a port of \(controller.interface)",
                                hint: "detach it first (nmcli connection up <its own profile>), or bridge another interface")
            }
            design = try Self.restate(reading, interface: interface, bridge: bridge, request: request)
        } else {
            try await Self.requireNoCheckpoint(nm, reading)
            try Self.requireFreeBridgeName(bridge, interface: interface, reading)
            guard !request.isEmpty || reading.applied?.ipv4 != nil || reading.applied?.ipv6 != nil else {
                throw Rejection(code: "no-ip-configuration", message: "\(interface) has no active profile and no configuration was given",
                                hint: "supply one: --ipv4 ADDRESS/PREFIX --gateway GATEWAY --dns SERVER, or --dhcp")
            }
            // 5. The profiles.
            design = try ConversionDesign.fresh(reading, interface: interface, bridge: bridge, request: request, stp: stp)
        }
        report.warnings += design.notes

        // 5. The probes.
        let bridgeIPv4 = design.bridge.ipv4
        let gateway: IPv4Address? = bridgeIPv4?.method == .manual ? bridgeIPv4?.gateway
            : bridgeIPv4?.method == .auto ? (bridgeIPv4?.gateway ?? reading.ipv4Now.gateway) : nil
        let dhcpAddress = bridgeIPv4?.method == .auto && reading.applied?.ipv4?.method == .auto
            ? reading.ipv4Now.addresses.first?.address : nil
        let choice = ProbeChoice.choose(
            defaults: !noProbe, extra: extraProbes, gateway: gateway, dhcpAddress: dhcpAddress, ssh: SSHSession(),
            interface: interface, interfaceAddresses: reading.ipv4Now.addresses, bridge: bridge,
            stp: design.bridge.bridge?.stp ?? true, nm: nm)
        report.warnings += choice.notes
        let stpOn = design.bridge.bridge?.stp ?? true
        let base: Duration = .seconds(rollbackTimeout) + (stpOn ? ProbeChoice.stpDelay : .zero)
        var transaction = design.transaction(probes: choice.probes, rollbackTimeout: base,
                                             label: "bridgeify \(interface) -> \(bridge)")
        if reading.controller == nil {
            // Right after the bridge is activated with the NIC attached, before verification
            // and the probes: the NIC's known neighbours (its gateway's MAC, ...) are written
            // onto the bridge, so that nothing waits a second for a lookup lost while the
            // bridge had no carrier (Neighbours.swift). Read now, before anything changes.
            let ipv6 = design.bridge.ipv6.map { $0.method != .disabled && $0.method != .ignore } ?? false
            transaction.afterActivation = [await Neighbours.hook(from: interface.rawValue, to: bridge.rawValue, ipv6: ipv6)]
        }
        report.configuration = Self.configuration(design, reading: reading)
        report.probes = choice.probes.map(\.name)
        report.rollbackTimeoutSeconds = Int(transaction.effectiveRollbackTimeout.components.seconds)
        report.profiles = .init(bridge: .init(design.bridge), port: .init(design.port),
                                superseded: design.superseded.map { .init($0.profile) })
        report.restore = Self.restoreSteps(design)
        if dryRun { report.desiredState = design.state }

        // 6. The plan: validation against the running NetworkManager (keys its version lacks,
        //    two profiles that could autoconnect on one interface, ...) and the diff.
        let plan: NMTransactionPlan
        do {
            plan = try await nm.plan(transaction, basedOn: reading.snapshot)
        } catch {
            throw Rejection(error)  // plan throws NMError only
        }
        report.plan = plan
        output.record("plan", "\(plan.steps.count) steps, \(plan.steps.filter { !$0.alreadyDone }.count) to do", since: checksStarted)

        if plan.isUnchanged {
            report.result = .unchanged
            report.summary = "\(interface) is already a port of \(bridge), which carries "
                + "\(report.configuration?.ipv4.map(\.text) ?? "no IPv4"): nothing to do."
            return
        }
        if choice.probes.isEmpty && !noProbe {
            // Verification proves what NetworkManager reports, not that the host still reaches
            // anything. A change without a single probe is the one that strands a remote host;
            // it is refused unless asked for in so many words.
            throw Rejection(code: "no-probe-possible",
                            message: "nothing could be probed after the change: " + choice.notes.joined(separator: "; "),
                            hint: "name something this host must still reach with --probe tcp:HOST:PORT or --probe ping:IPV4, "
                                + "or give --no-probe to go on without any probe")
        }
        if reading.controller != nil {
            // Converted before, but something is left over (an old profile still autoconnects):
            // finishing that is a change like any other.
            try await Self.requireNoCheckpoint(nm, reading)
        }
        if dryRun {
            report.result = .planned
            output.note("Plan (nothing is changed with --dry-run):")
            output.note(plan.description)
            if let yaml = try? design.state.yamlText() {
                output.note("As a desired state (netstate's schema; the settings outside it come from \(interface)'s profile):")
                output.note(yaml)
            }
            report.summary = "Dry run: nothing was changed. Probes after the change: "
                + (choice.probes.isEmpty ? "none" : choice.probes.map(\.name).joined(separator: "; ")) + "."
            return
        }

        // 7. Apply. The library validates again, makes a checkpoint of every device (with a
        //    heartbeat, so NetworkManager restores the host if this process dies), stages the
        //    profiles in memory, activates the bridge and waits for the port, verifies, probes,
        //    and commits, or rolls back and throws an NMError whose `transaction` report says
        //    what the rollback did.
        output.note("Converting \(interface) to a port of \(bridge)"
            + (report.configuration?.ipv4.map { " (\($0.text))" } ?? "") + "; rollback timeout \(report.rollbackTimeoutSeconds ?? 0) s")
        let commit = confirm == nil
        let confirmTimeout: Duration = .seconds(confirm ?? 120)
        // Ctrl-C, SIGTERM, or the SSH session hanging up cancel this task (Interruption): the
        // library then rolls back at once, or finishes a commit that has begun. Either way it
        // reads the host back, and the report says where it ended.
        do {
            // Against the reading the plan was made from: the host is not read a third time.
            let result = try await nm.apply(transaction, commit: commit, confirmTimeout: confirmTimeout,
                                            basedOn: reading.snapshot) { output.event($0) }
            report.state = result.endState.name
            report.warnings += result.notes
            if let signal = Interruption.shared.signalName, result.outcome == .committed {
                report.warnings.append("interrupted by \(signal) after the commit had begun: the commit was finished")
            }
            switch result.outcome {
            case .committed:
                report.result = .committed
                report.summary = "Committed in \(Self.seconds(output.elapsedMilliseconds)): \(bridge) carries \(interface)'s configuration "
                    + "and \(interface) is its port. "
                    + Self.supersededText(design) + "To go back, see docs/bridgeify.md (\"Going back\")."
            case .pending:
                report.result = .pending
                report.pending = result.pending.map { [Report.Pending($0)] }
                let when = result.pending?.revertsAt.map { " (at \(Self.clock($0)))" } ?? ""
                report.summary = "Applied and pending: it reverts by itself in \(confirm ?? 0) s\(when) unless confirmed. "
                    + "Confirm with `bridgeify confirm`, undo now with `bridgeify rollback`."
            case .unchanged:
                report.result = .unchanged
                report.summary = "Nothing to do: the desired state already holds."
            }
        } catch {
            // apply throws NMError only; every failure of the transaction carries its report.
            guard let error = error.transaction else {
                // Not expected, but if it happens, nobody can say what state the host is in.
                report.result = .failed
                report.state = "needs-attention"
                report.error = .init(code: error.code.rawValue, message: error.message,
                                     hint: "check the host: nmcli device; nmcli connection; bridgeify status")
                return
            }
            report.error = .init(code: error.cause.code.rawValue, message: error.cause.message, hint: error.hint,
                                 step: error.step.rawValue)
            if error.cause.code == .permissionDenied, case .notNeeded = error.rollback {
                // Refused at the record or the checkpoint: nothing was changed.
                report.error?.message = "this user (uid \(getuid())) is not allowed to change networking: \(error.cause.message)"
                report.error?.hint = "run it as root (sudo bridgeify ...) or have polkit grant "
                    + Self.neededPermissions.joined(separator: ", ")
            }
            if let signal = Interruption.shared.signalName {
                report.error?.code = "interrupted"
                report.error?.message = "interrupted by \(signal) during \(error.step.rawValue)"
                report.error?.hint = "bridgeify was stopped (Ctrl-C, a kill, or its SSH session hung up), so it undid the change; run it again"
            } else if error.step == .probe {
                // Whatever the probe's own error was (no answer, a timeout), what it means is
                // that the host lost reach of something it had.
                report.error?.code = "probe-failed"
                report.error?.hint = "after the change this host could not reach it; "
                    + "check the address (a mistyped --gateway?), or whether it answers at all (ICMP blocked: --no-probe, "
                    + "or --probe tcp:HOST:PORT instead)"
            }
            // The outcome follows where the host was read back in, not the path taken.
            report.state = error.endState.name
            switch error.endState {
            case .before, .pending:
                if case .notNeeded = error.rollback {
                    // Refused before anything changed (the checkpoint itself, a permission).
                    report.result = .rejected
                    report.summary = "Nothing was changed."
                } else {
                    let milliseconds: Int
                    if case .restored(let duration) = error.rollback { milliseconds = duration.milliseconds } else { milliseconds = 0 }
                    report.result = .rolledBack
                    report.rollback = .init(restored: true, milliseconds: milliseconds)
                    report.summary = "The conversion failed and was rolled back in \(milliseconds) ms: "
                        + "the host is as it was before (read back from NetworkManager)."
                }
            case .committed:
                report.result = .committed
                report.summary = "The conversion is committed (read back from NetworkManager), though a step reported: \(error.cause.message)"
            case .needsAttention(let differences):
                report.result = .failed
                report.differences = differences
                let rollbackError: String
                if case .failed(let failure) = error.rollback { rollbackError = failure.description } else { rollbackError = "the host differs from before" }
                report.rollback = .init(restored: false, error: rollbackError)
                report.summary = "The conversion failed"
                    + (rollbackError == "the host differs from before" ? "" : ", the rollback failed too,")
                    + " AND the host is not as before: " + differences.joined(separator: "; ")
                    + ". Check it now (nmcli device; nmcli connection; bridgeify status). NetworkManager's checkpoint, "
                    + "if it still exists, restores the host when its timeout passes."
            }
        }
    }

    // MARK: - Input

    /// The interface (`what` "interface") must be a name the kernel and NetworkManager accept
    /// (the library's rules: NMInterfaceName). The bridge (`what` "bridge") is a name
    /// bridgeify *creates*, and it follows a stricter rule of its own: letters, digits, '-', '_'
    /// and '.', not starting with '-', so that it is safe to type, to paste into a shell, and to
    /// pass to ip(8) and nmcli(1) as an argument.
    static func interfaceName(_ text: String, what: String) throws(Rejection) -> NMInterfaceName {
        let code = what == "bridge" ? "invalid-bridge-name" : "invalid-interface-name"
        let name: NMInterfaceName
        do {
            name = try NMInterfaceName(text)
        } catch {
            throw Rejection(code: code, message: "invalid \(what) name \(NMText.quoted(text)): "
                                + (NMInterfaceName.problem(text) ?? error.message), hint: error.hint)
        }
        if what == "bridge", let problem = createdNameProblem(text) {
            throw Rejection(code: code, message: "invalid bridge name \(NMText.quoted(text)): \(problem)",
                            hint: "name the new bridge with 1-15 letters, digits, '-', '_' and '.', not starting with '-', "
                                + "such as br0 or br-lan")
        }
        return name
    }

    /// What breaks bridgeify's rule for the names it creates (`[A-Za-z0-9_.-]`, not starting
    /// with `-`), or nil.
    static func createdNameProblem(_ text: String) -> String? {
        if text.hasPrefix("-") { return "it starts with '-', which commands would take for an option" }
        let allowed = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)
        }
        return allowed ? nil : "use letters, digits, '-', '_' and '.' only"
    }

    func ipRequest() throws(Rejection) -> IPRequest {
        var request = IPRequest()
        // Each value is checked on its own here, with the library's rules, so that the message
        // names the option; how they fit together (a gateway in a subnet, not the host's own
        // address) the library checks when it builds the bridge's profile.
        do throws(NMError) {
            for text in ipv4 {
                let entry = try IPv4AddressWithPrefix(Self.withPrefix(text, 32))
                try NMConnectionProfile.validateHostAddress(entry, key: "--ipv4")
                request.ipv4Addresses.append(entry)
            }
            if let gateway {
                let address = try IPv4Address(gateway)
                try NMConnectionProfile.validateGatewayAddress(address, key: "--gateway")
                request.gateway4 = address
            }
            for text in ipv6 {
                let entry = try IPv6AddressWithPrefix(Self.withPrefix(text, 128))
                try NMConnectionProfile.validateHostAddress(entry, key: "--ipv6")
                request.ipv6Addresses.append(entry)
            }
            if let gateway6 {
                let address = try IPv6Address(gateway6)
                try NMConnectionProfile.validateGatewayAddress(address, key: "--gateway6")
                request.gateway6 = address
            }
            for server in dns {
                if let v4 = try? IPv4Address(server) {
                    try NMConnectionProfile.validateDNSServer(v4, key: "--dns")
                    request.dns4.append(v4)
                } else if let v6 = try? IPv6Address(server) {
                    try NMConnectionProfile.validateDNSServer(v6, key: "--dns")
                    request.dns6.append(v6)
                } else {
                    throw NMError(.invalidAddress, "--dns \(NMText.quoted(server)) is neither an IPv4 nor an IPv6 address",
                                  hint: "write a DNS server as an address, such as 192.0.2.53 or 2001:db8::53")
                }
            }
            for domain in dnsSearch { try NMConnectionProfile.validateSearchDomain(domain, key: "--dns-search") }
        } catch {
            throw Rejection(error)
        }
        request.dnsSearch = dnsSearch
        request.dhcp = dhcp
        request.ipv6Auto = ipv6Auto
        if dhcp && !ipv4.isEmpty {
            throw Rejection(code: "conflicting-options", message: "--dhcp and --ipv4 exclude each other",
                            hint: "choose DHCP or static addresses")
        }
        if ipv6Auto && !ipv6.isEmpty {
            throw Rejection(code: "conflicting-options", message: "--ipv6-auto and --ipv6 exclude each other",
                            hint: "choose router advertisements or static addresses")
        }
        return request
    }

    /// An address without a prefix is refused rather than silently taken as /32: forgetting the
    /// prefix is a classic way to lose a host's whole subnet.
    static func withPrefix(_ text: String, _ bits: Int) throws(NMError) -> String {
        guard text.contains("/") else {
            throw NMError(.invalidPrefix, "\(NMText.quoted(text)) has no prefix length",
                          hint: "write the address with its prefix, such as \(bits == 32 ? "192.168.1.200/24" : "2001:db8:1::200/64")")
        }
        return text
    }

    /// Waits (at most 10 s) until `interface` is activated again and no `bridge` device is
    /// left, after stale staged profiles were deleted. NetworkManager announces neither as one
    /// event, so this polls.
    static func settle(_ interface: NMInterfaceName, bridge: NMInterfaceName, _ nm: NMClient) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let snapshot = try await nm.snapshot()
            let bridgeGone = snapshot.device(named: bridge.rawValue).map { !$0.isReal } ?? true
            if snapshot.device(named: interface.rawValue)?.state == .activated && bridgeGone { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: - Checks

    /// The polkit actions a conversion needs: making profiles, activating them, checkpoints
    /// (named in the hint when NetworkManager refuses one).
    static let neededPermissions = [
        NMError.PolkitAction.settingsModifySystem, NMError.PolkitAction.networkControl, NMError.PolkitAction.checkpointRollback,
    ]

    /// One checkpoint at a time: another tool's pending change (or our own, waiting for
    /// `bridgeify confirm`) must be finished first. The library would fail at the checkpoint
    /// step anyway; refusing here says why.
    static func requireNoCheckpoint(_ nm: NMClient, _ reading: InterfaceReading) async throws {
        guard let checkpoint = reading.snapshot.checkpoints.first else { return }
        let ours = try await nm.pendingTransactions(includingStale: true).filter { $0.label.hasPrefix("bridgeify") }
        if let running = ours.first(where: { $0.state == .inProgress }) {
            throw Rejection(code: "conversion-running", message: "another conversion is being applied right now (\(running.label))",
                            hint: "wait for it to finish (bridgeify status); if its process died, its checkpoint reverts it within its rollback timeout")
        }
        if let pending = ours.first(where: { $0.state == .awaitingConfirmation }) {
            throw Rejection(code: "conversion-pending", message: "a conversion is waiting for confirmation (\(pending.label))",
                            hint: "finish it first: bridgeify confirm, or bridgeify rollback")
        }
        let expiry = checkpoint.expiry.map { " and rolls back by itself at about \(clock($0))" } ?? ""
        // bridgeify cannot finish another tool's change, and `bridgeify rollback` only undoes
        // its own: the hint names what the operator can do with NetworkManager itself.
        throw Rejection(code: "checkpoint-exists",
                        message: "another change is pending: NetworkManager holds checkpoint \(checkpoint.path)\(expiry)",
                        hint: "wait until the tool that made it (nmcli, nmstate, Cockpit, ...) commits it or it rolls back by itself, "
                            + "then run bridgeify again; if it is abandoned, keep the current state with "
                            + "busctl call org.freedesktop.NetworkManager /org/freedesktop/NetworkManager "
                            + "org.freedesktop.NetworkManager CheckpointDestroy o \(checkpoint.path)")
    }

    static func requireFreeBridgeName(_ bridge: NMInterfaceName, interface: NMInterfaceName, _ reading: InterfaceReading) throws {
        if let device = reading.device(named: bridge) {
            throw Rejection(code: "bridge-name-taken", message: "an interface named \(bridge) already exists (\(device.type), \(device.state))",
                            hint: "choose another name with --bridge")
        }
        let portName = ConversionDesign.portName(bridge: bridge, interface: interface)
        if let clash = reading.profiles.first(where: {
            $0.profile.interfaceName == bridge || $0.profile.name == bridge.rawValue || $0.profile.name == portName
        }) {
            throw Rejection(code: "bridge-name-taken",
                            message: "a profile already uses the name \(bridge): '\(clash.profile.name)' (\(clash.profile.uuid.uuidString.lowercased()))",
                            hint: "choose another name with --bridge, or delete that profile (nmcli connection delete \(clash.profile.uuid.uuidString.lowercased()))")
        }
    }

    /// A rerun on a converted interface: the end state, restated as the same transaction
    /// over the profiles that exist. The library's plan decides whether anything is left.
    static func restate(_ reading: InterfaceReading, interface: NMInterfaceName, bridge: NMInterfaceName,
                        request: IPRequest) throws -> ConversionDesign {
        guard reading.activeProfile != nil, let bridgeProfile = reading.activeProfile(on: bridge) else {
            throw Rejection(code: "already-a-port", message: "\(interface) is attached to \(bridge), but \(bridge) has no active profile",
                            hint: "check with nmcli device; bring the bridge up with nmcli connection up \(bridge)")
        }
        if !request.isEmpty {
            // Options on a rerun must describe what the bridge already has.
            let current = bridgeProfile.profile
            let ipv4 = try request.ipv4(over: current.ipv4, now: reading.ipv4Now).setting
            let ipv6 = try request.ipv6(over: current.ipv6)
            if ipv4 != current.ipv4 || ipv6 != current.ipv6 {
                throw Rejection(code: "already-converted", message: "\(interface) is already a port of \(bridge), configured differently",
                                hint: "change the bridge itself: nmcli connection modify \(bridgeProfile.profile.name) ... and nmcli connection up \(bridgeProfile.profile.name)")
            }
        }
        // The same state as a conversion, over the profiles that exist: the planner keeps the
        // port attached already (the one active on the NIC) and supersedes what else could
        // autoconnect on either.
        return try ConversionDesign.planned(reading, interface: interface, bridge: bridgeProfile.profile, notes: [])
    }

    // MARK: - Describing

    static func describe(_ reading: InterfaceReading, _ interface: NMInterfaceName) -> String {
        var text = "\(interface) (\(reading.device.type), MAC \(reading.mac))"
        if let active = reading.activeProfile {
            text += ", profile '\(active.profile.name)'"
        } else {
            text += ", no active profile"
        }
        if let ipv4 = reading.applied?.ipv4 {
            var ip = Report.IP(ipv4)
            if ipv4.method == .auto { ip.addresses = reading.ipv4Now.addresses.map(\.description) }
            text += ": " + ip.text
        }
        if let controller = reading.controller { text += ", port of \(controller.interface)" }
        return text
    }

    static func configuration(_ design: ConversionDesign, reading: InterfaceReading) -> Report.Configuration {
        Report.Configuration(
            mac: reading.mac.description, mtu: design.bridge.ethernet?.mtu, stp: design.bridge.bridge?.stp ?? true,
            ipv4: design.bridge.ipv4.map(Report.IP.init), ipv6: design.bridge.ipv6.map(Report.IP.init),
            source: reading.activeProfile.map { "applied profile '\($0.profile.name)'" } ?? "options")
    }

    static func supersededText(_ design: ConversionDesign) -> String {
        guard !design.superseded.isEmpty else { return "" }
        let names = design.superseded.map { "'\($0.profile.name)'" }.joined(separator: ", ")
        return "The previous profile \(names) is kept but no longer autoconnects. "
    }

    /// How to go back to the superseded profile (docs/bridgeify.md explains each step).
    static func restoreSteps(_ design: ConversionDesign) -> [String] {
        guard let old = design.superseded.first(where: { $0.profile.interfaceName == design.interface }) ?? design.superseded.first else {
            return []
        }
        let id = old.profile.uuid.uuidString.lowercased()
        return [
            "nmcli connection modify \(id) connection.autoconnect yes",
            "nmcli connection up \(id)",
            "nmcli connection delete \(design.port.uuid.uuidString.lowercased()) \(design.bridge.uuid.uuidString.lowercased())",
        ]
    }

    static func seconds(_ milliseconds: Int) -> String { String(format: "%.2f s", Double(milliseconds) / 1000) }

    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }
}
