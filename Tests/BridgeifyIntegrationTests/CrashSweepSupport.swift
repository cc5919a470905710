import DBus
import Foundation
import NMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// The crash-point sweep's machinery (docs/testing.md, "Crash-point sweep"): the state of a
// container as one normalised comparison, its classification as "before", "committed" or
// "pending", the instrumented runs, and the report check. The sweep itself is in
// CrashSweepTests.swift.

// MARK: - The host's state, normalised

/// The container's state as the sweep compares it, as flat "what: value" entries, normalised
/// so that two containers in the same state compare equal: profiles by name, not UUID, and
/// without timestamps; the NIC's MAC (random per container) as `{mac}`.
///
/// It covers every profile's settings as NetworkManager serves them (`GetSettings`) and where
/// it is stored (`Filename`: /etc is disk, /run is memory; `Flags`), every keyfile on disk and
/// in /run line by line, each device's state and active profile, NetworkManager's checkpoints,
/// and from the kernel every link's controller and MAC, its addresses and the main table's
/// routes. Autoconnect is one of the settings (absent means the default, yes).
///
/// Read from NetworkManager over raw D-Bus calls (`GetManagedObjects`, `GetSettings`) and from
/// `ip` and the files inside the container: not through the NetworkManager module under test.
struct SweepSnapshot: Equatable, Sendable {
    var entries: [String: String]

    static let nm: BusName = "org.freedesktop.NetworkManager"

    static func take(_ container: NMContainer, _ bus: DBusConnection, mac: String) async throws -> SweepSnapshot {
        let objects = try await bus.managedObjects(at: "/org/freedesktop", on: nm)
        var entries: [String: String] = [:]

        // Profiles: names for UUIDs first, so that every value can be normalised.
        struct Stored { var path: ObjectPath; var name: String; var uuid: String; var settings: [String: [String: DBusValue]] }
        var stored: [Stored] = []
        for (path, interfaces) in objects where interfaces["org.freedesktop.NetworkManager.Settings.Connection"] != nil {
            let reply = try await bus.call(destination: nm, path: path, interface: "org.freedesktop.NetworkManager.Settings.Connection",
                                           member: "GetSettings")
            let settings = Self.settings(reply.first)
            let id = settings["connection"]?["id"].flatMap(Self.string) ?? path.rawValue
            let uuid = settings["connection"]?["uuid"].flatMap(Self.string) ?? ""
            stored.append(Stored(path: path, name: id, uuid: uuid, settings: settings))
        }
        var names: [String: String] = [:]  // path -> unique name
        var uuids: [String: String] = [:]  // lowercased uuid -> name
        for profile in stored.sorted(by: { ($0.name, $0.path.rawValue) < ($1.name, $1.path.rawValue) }) {
            var name = profile.name
            var n = 2
            while names.values.contains(name) { name = "\(profile.name)#\(n)"; n += 1 }
            names[profile.path.rawValue] = name
            if !profile.uuid.isEmpty { uuids[profile.uuid.lowercased()] = name }
        }
        let normalise = Normaliser(mac: mac, uuids: uuids)

        for profile in stored {
            let name = names[profile.path.rawValue]!
            for (setting, keys) in profile.settings {
                for (key, value) in keys where !(setting == "connection" && key == "timestamp") {
                    entries["profile \(name): \(setting).\(key)"] = normalise(Self.render(value))
                }
            }
            let properties = objects[profile.path]?["org.freedesktop.NetworkManager.Settings.Connection"] ?? [:]
            let filename = properties["Filename"].flatMap(Self.string) ?? ""
            let storage = filename.hasPrefix("/run/") ? "memory" : filename.hasPrefix("/etc/") ? "disk" : "other"
            let flags = properties["Flags"].map(Self.render) ?? "?"
            entries["profile \(name): storage"] = "\(storage) \(normalise(filename)) flags \(flags)"
        }

        // Devices: state and active profile; checkpoints.
        var activeNames: [String: String] = [:]
        for (path, interfaces) in objects {
            if let active = interfaces["org.freedesktop.NetworkManager.Connection.Active"] {
                let connection = active["Connection"].flatMap(Self.string) ?? ""
                activeNames[path.rawValue] = names[connection] ?? active["Id"].flatMap(Self.string) ?? "?"
            }
        }
        for (_, interfaces) in objects {
            guard let device = interfaces["org.freedesktop.NetworkManager.Device"],
                device["Real"].map(Self.render) != "false",
                let interface = device["Interface"].flatMap(Self.string)
            else { continue }
            let state = device["State"].map(Self.render) ?? "?"
            let active = device["ActiveConnection"].flatMap(Self.string).flatMap { activeNames[$0] } ?? "-"
            entries["device \(interface)"] = "state \(state), active \(active)"
        }
        let manager = objects["/org/freedesktop/NetworkManager"]?["org.freedesktop.NetworkManager"] ?? [:]
        entries["checkpoints"] = String(Self.count(manager["Checkpoints"]))

        // The kernel, and the keyfiles on disk and in /run: one command inside.
        let script = """
            ip -j addr; echo '@@'; ip -j -4 route show table main; echo '@@'; ip -j -6 route show table main; echo '@@'
            for f in /etc/NetworkManager/system-connections/* /run/NetworkManager/system-connections/*; do
                [ -f "$f" ] && { echo "== $f"; cat "$f"; }
            done; true
            """
        let output = try await container.execAsync(["sh", "-c", script], timeout: 60)
        guard output.status == 0 else { throw TestSupportError(.commandFailed, "snapshot script failed", stderr: output.stderr) }
        let parts = output.stdout.components(separatedBy: "@@\n")
        guard parts.count == 4 else { throw TestSupportError(.commandFailed, "snapshot script: unexpected output", stderr: output.stdout) }
        for link in Self.json(parts[0]) {
            guard let name = link["ifname"] as? String, name != "lo" else { continue }
            let master = link["master"] as? String ?? "-"
            let address = normalise(link["address"] as? String ?? "-")
            entries["link \(name)"] = "controller \(master), mac \(address)"
            let addresses = ((link["addr_info"] as? [[String: Any]]) ?? []).compactMap { info -> String? in
                guard let local = info["local"] as? String, let prefix = info["prefixlen"] as? Int,
                    (info["scope"] as? String) != "link"
                else { return nil }
                return "\(local)/\(prefix)"
            }.sorted()
            entries["addresses \(name)"] = addresses.joined(separator: " ")
        }
        for route in Self.json(parts[1]) + Self.json(parts[2]) {
            let destination = route["dst"] as? String ?? "?"
            if destination.hasPrefix("fe80::") || destination.hasPrefix("ff00::") || route["type"] as? String == "multicast" { continue }
            var text = destination
            if let gateway = route["gateway"] as? String { text += " via \(gateway)" }
            if let device = route["dev"] as? String { text += " dev \(device)" }
            if let scope = route["scope"] as? String { text += " scope \(scope)" }
            if let source = route["prefsrc"] as? String { text += " src \(source)" }
            if let metric = route["metric"] as? Int { text += " metric \(metric)" }
            entries["route \(text)"] = "present"
        }
        var file = ""
        var section = ""
        for line in parts[3].split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("== ") {
                file = normalise(String(line.dropFirst(3)))
                section = ""
                entries["file \(file)"] = "present"
            } else if line.hasPrefix("[") {
                section = line
            } else if !line.hasPrefix("timestamp=") {
                // Normalised whole: the key says whether the value is a time.
                let normalised = normalise(line)
                guard let equals = normalised.firstIndex(of: "=") else { continue }
                entries["file \(file): \(section) \(normalised[..<equals])"] = String(normalised[normalised.index(after: equals)...])
            }
        }
        return SweepSnapshot(entries: entries)
    }

    /// Every difference, as "what: this -> other", at most `limit` of them.
    func differences(from other: SweepSnapshot, limit: Int = 6) -> [String] {
        var out: [String] = []
        for key in Set(entries.keys).union(other.entries.keys).sorted() where entries[key] != other.entries[key] {
            func show(_ value: String?) -> String {
                guard let value else { return "absent" }
                return value.count > 90 ? String(value.prefix(87)) + "..." : value
            }
            out.append("\(key): \(show(other.entries[key])) -> \(show(entries[key]))")
        }
        return out.count > limit ? Array(out.prefix(limit)) + ["(\(out.count - limit) more)"] : out
    }

    var checkpoints: Int { Int(entries["checkpoints"] ?? "0") ?? 0 }

    // MARK: Rendering D-Bus values

    static func settings(_ value: DBusValue?) -> [String: [String: DBusValue]] {
        guard case .dictionary(_, _, let outer)? = value else { return [:] }
        var out: [String: [String: DBusValue]] = [:]
        for entry in outer {
            guard let setting = string(entry.key), case .dictionary(_, _, let inner) = entry.value else { continue }
            var keys: [String: DBusValue] = [:]
            for item in inner { if let key = string(item.key) { keys[key] = item.value } }
            out[setting] = keys
        }
        return out
    }

    static func string(_ value: DBusValue) -> String? {
        switch value {
        case .string(let s): return s
        case .objectPath(let p): return p.rawValue
        case .variant(let inner): return string(inner)
        default: return nil
        }
    }

    static func count(_ value: DBusValue?) -> Int {
        switch value {
        case .array(_, let items)?: return items.count
        case .variant(let inner)?: return count(inner)
        default: return 0
        }
    }

    static func render(_ value: DBusValue) -> String {
        switch value {
        case .byte(let x): return String(x)
        case .boolean(let x): return x ? "true" : "false"
        case .int16(let x): return String(x)
        case .uint16(let x): return String(x)
        case .int32(let x): return String(x)
        case .uint32(let x): return String(x)
        case .int64(let x): return String(x)
        case .uint64(let x): return String(x)
        case .double(let x): return String(x)
        case .string(let s): return "\"\(s)\""
        case .objectPath(let p): return p.rawValue
        case .signature(let s): return s.rawValue
        case .unixFD: return "fd"
        case .array(.byte, let bytes):
            let values = bytes.compactMap { if case .byte(let b) = $0 { return b } else { return nil } }
            let hex = values.map { String(format: "%02X", $0) }
            return values.count == 6 ? hex.joined(separator: ":") : "0x" + hex.joined()
        case .array(_, let items): return "[" + items.map(render).joined(separator: ", ") + "]"
        case .dictionary(_, _, let entries):
            return "{" + entries.map { render($0.key) + ": " + render($0.value) }.sorted().joined(separator: ", ") + "}"
        case .structure(let fields): return "(" + fields.map(render).joined(separator: ", ") + ")"
        case .variant(let inner): return render(inner)
        }
    }

    static func json(_ text: String) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
    }
}

/// Replaces what differs between two containers in the same state: the NIC's MAC, profile
/// UUIDs (by the profile's name), other UUIDs (transaction ids), numbers that are times
/// (`timestamp`, `...-created`), and checkpoint numbers.
struct Normaliser {
    var mac: String
    var uuids: [String: String]

    private static let uuidPattern = try! NSRegularExpression(
        pattern: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
    private static let timePattern = try! NSRegularExpression(pattern: #"(timestamp|created)("?[=:] ?"?)[0-9]+"#)
    /// NetworkManager numbers checkpoints on from 1: a reused container is further on.
    private static let checkpointPattern = try! NSRegularExpression(pattern: #"/Checkpoint/[0-9]+"#)

    func callAsFunction(_ text: String) -> String {
        var out = text
        if !mac.isEmpty { out = out.replacingOccurrences(of: mac, with: "{mac}", options: .caseInsensitive) }
        let range = NSRange(out.startIndex..., in: out)
        var replaced = ""
        var last = out.startIndex
        for match in Self.uuidPattern.matches(in: out, range: range) {
            guard let r = Range(match.range, in: out) else { continue }
            replaced += out[last..<r.lowerBound]
            replaced += uuids[out[r].lowercased()].map { "{uuid of \($0)}" } ?? "{uuid}"
            last = r.upperBound
        }
        replaced += out[last...]
        let timed = Self.timePattern.stringByReplacingMatches(
            in: replaced, range: NSRange(replaced.startIndex..., in: replaced), withTemplate: "$1$2{n}")
        return Self.checkpointPattern.stringByReplacingMatches(
            in: timed, range: NSRange(timed.startIndex..., in: timed), withTemplate: "/Checkpoint/{n}")
    }
}

// MARK: - Classification

/// What state the host is in, compared with the references.
enum SweepState: String, Sendable {
    case before, committed, pending, other
}

struct SweepReferences: Sendable {
    /// The state before the conversion (this container's own "before" in a cell).
    var before: SweepSnapshot
    /// The state after a conversion that committed (from the recording run; another container).
    var committed: SweepSnapshot
    /// The state while a `--confirm` conversion is pending (flows that start there).
    var pending: SweepSnapshot?

    /// The state `snapshot` is in, and when it is none of them, how it differs from the
    /// closest one.
    func classify(_ snapshot: SweepSnapshot) -> (state: SweepState, differences: [String]) {
        if snapshot == before { return (.before, []) }
        if snapshot == committed { return (.committed, []) }
        if let pending, snapshot == pending { return (.pending, []) }
        var candidates: [(String, [String])] = [("before", snapshot.differences(from: before, limit: 1000)),
                                                ("committed", snapshot.differences(from: committed, limit: 1000))]
        if let pending { candidates.append(("pending", snapshot.differences(from: pending, limit: 1000))) }
        let closest = candidates.min { $0.1.count < $1.1.count }!
        let shown = closest.1.count > 6 ? Array(closest.1.prefix(6)) + ["(\(closest.1.count - 6) more)"] : closest.1
        return (.other, ["differs from \(closest.0): " + shown.joined(separator: "; ")])
    }
}

// MARK: - Flows, cells, outcomes

/// One of the three things swept: a conversion, and the two ways of ending a pending one.
enum SweepFlow: String, CaseIterable, Sendable {
    /// `bridgeify eno1 --no-probe --rollback-timeout 1`: the conversion, committed at once.
    case convert
    /// A `--confirm` conversion pending (uninstrumented), then `bridgeify confirm`.
    case confirm
    /// A `--confirm` conversion pending (uninstrumented), then `bridgeify rollback`.
    case rollback

    /// The instrumented command.
    var arguments: [String] {
        switch self {
        case .convert: return ["eno1", "--no-probe", "--rollback-timeout", "1"]
        case .confirm: return ["confirm"]
        case .rollback: return ["rollback"]
        }
    }

    /// The state the instrumented command starts from.
    var start: SweepState { self == .convert ? .before : .pending }

    /// What the uninstrumented run must end in.
    var expectedResult: (result: String, state: SweepState) {
        switch self {
        case .convert, .confirm: return ("committed", .committed)
        case .rollback: return ("rolled-back", .before)
        }
    }
}

enum SweepSignal: String, CaseIterable, Sendable {
    case TERM, KILL, STOP
}

struct SweepCell: Sendable, Hashable, CustomStringConvertible {
    var flow: SweepFlow
    var call: Int
    var signal: SweepSignal
    var description: String { "\(flow.rawValue):\(call):\(signal.rawValue)" }
}

struct SweepOutcome: Sendable {
    var cell: SweepCell
    /// The member of call k in this run (from its own log), `-` if the run never made call k.
    var member = "-"
    /// The state when the interrupted process had ended (TERM, STOP), or after NetworkManager's
    /// own rollback (KILL).
    var atExit: SweepState?
    /// What the run's JSON said, `result/state (exit N)`; for KILL, what `status` (and
    /// `rollback`) said.
    var report = "-"
    var final: SweepState?
    var problems: [String] = []
    var seconds: Double = 0
    /// How long each phase took (printed with the progress lines).
    var laps: [String] = []
    private var lapStarted = ContinuousClock.now

    init(cell: SweepCell) { self.cell = cell }

    var passed: Bool { problems.isEmpty }

    mutating func lap(_ phase: String) {
        let now = ContinuousClock.now
        laps.append(String(format: "%@ %.1f", phase, (now - lapStarted).seconds))
        lapStarted = now
    }
}

/// One D-Bus method call as the shim logged it.
struct LoggedCall: Sendable, Equatable, CustomStringConvertible {
    var member: String
    var interface: String
    var path: String
    var destination: String
    var description: String { "\(interface).\(member) on \(path) at \(destination)" }

    /// The calls of a shim log (`k<TAB>member<TAB>interface<TAB>path<TAB>destination`), in order,
    /// and whether the shim signalled the process.
    static func read(_ path: String) -> (calls: [LoggedCall], signalled: Bool) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var calls: [LoggedCall] = []
        var signalled = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# signal") { signalled = true }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, let k = Int(fields[0]), k == calls.count + 1 else { continue }
            calls.append(LoggedCall(member: fields[1], interface: fields[2], path: fields[3], destination: fields[4]))
        }
        return (calls, signalled)
    }
}

// MARK: - The report check

/// The JSON document a run printed, loosely: only `result`, `state` and the error's code matter.
struct SweepReport {
    var result: String
    var state: String?
    var errorCode: String?
    var status: Int32

    init?(_ run: BridgeifyRun) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any],
            let result = object["result"] as? String
        else { return nil }
        self.result = result
        self.state = object["state"] as? String
        self.errorCode = (object["error"] as? [String: Any])?["code"] as? String
        self.status = run.status
    }

    var summary: String {
        var text = result
        if let state { text += "/\(state)" }
        if let errorCode { text += " (\(errorCode))" }
        return text + " exit \(status)"
    }

    /// Why this report does not name `host`, the state the host is in, or nil if it does.
    ///
    /// `state` (when the document has one) must equal it; `result` must agree: `committed` with
    /// committed, `rolled-back` with before, `rejected` (nothing changed) with the state the
    /// command started from (or before, when a pending change had already reverted by itself),
    /// `pending` with pending, `none` (status: nothing pending) with before or committed. A
    /// `failed` result is accepted only with a `state` that names the host's.
    func mismatch(host: SweepState, flow: SweepFlow) -> String? {
        if let state, state != host.rawValue, !(state == "needs-attention" && host == .other) {
            return "report says state \(state), the host is \(host.rawValue)"
        }
        let agrees: Bool
        switch result {
        case "committed": agrees = host == .committed
        case "rolled-back": agrees = host == .before
        case "rejected": agrees = host == flow.start || host == .before
        case "pending": agrees = host == .pending
        case "none": agrees = host == .before || host == .committed
        case "stale": agrees = host == .other || host == .pending
        case "failed": agrees = state != nil
        default: agrees = false
        }
        return agrees ? nil : "report says \(result)\(state.map { "/\($0)" } ?? ""), the host is \(host.rawValue)"
    }
}

// MARK: - Running bridgeify under the shim

/// A yes/no shared between the run and its watcher.
final class SweepFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

enum SweepProcess {
    /// The host pid of the bridgeify started with `CRASHPOINT_RUN=token` in its environment.
    static func find(token: String) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        let needle = Array("CRASHPOINT_RUN=\(token)".utf8)
        for entry in entries {
            guard let pid = pid_t(entry),
                let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), comm.hasPrefix("bridgeify"),
                let environ = readProcFile("/proc/\(pid)/environ")
            else { continue }
            if environ.split(separator: 0).contains(where: { Array($0) == needle }) { return pid }
        }
        return nil
    }

    /// A /proc file's bytes (its size is 0 to stat(2), so read to the end).
    static func readProcFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    /// Continues a process the sweep stopped. `nm-container exec`'s nsenter, its parent, stops
    /// itself when its child stops (and continues the child when it is continued), so the
    /// whole process group of the command gets SIGCONT, as a shell's `fg` would do.
    static func resume(_ pid: pid_t) {
        let group = getpgid(pid)
        if group > 1 && group != getpgrp() { kill(-group, SIGCONT) }
        kill(pid, SIGCONT)
    }

    /// The state letter of /proc/PID/stat (`T` stopped, `Z` zombie), nil once gone.
    static func state(_ pid: pid_t) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].dropFirst().first
    }

    /// Whether `pid` still is the process of `token` (before signalling it).
    static func isOurs(_ pid: pid_t, token: String) -> Bool { find(token: token) == pid }
}

extension NMContainer {
    /// The checkpoints NetworkManager holds now.
    static func checkpointCount(_ bus: DBusConnection) async throws -> Int {
        let reply = try await bus.call(destination: SweepSnapshot.nm, path: "/org/freedesktop/NetworkManager",
                                       interface: "org.freedesktop.DBus.Properties", member: "Get",
                                       arguments: [.string("org.freedesktop.NetworkManager"), .string("Checkpoints")])
        return SweepSnapshot.count(reply.first)
    }

    /// Waits until NetworkManager holds no checkpoint (its own rollback at the timeout), at
    /// most `bound`; returns whether it got there.
    static func waitForNoCheckpoint(_ bus: DBusConnection, bound: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if try await checkpointCount(bus) == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await checkpointCount(bus) == 0
    }

    /// Waits until no device is activating or deactivating and the host reads the same twice
    /// 150 ms apart (at most `bound`), then returns that state.
    func settledSnapshot(_ bus: DBusConnection, mac: String, bound: Duration = .seconds(20)) async throws -> SweepSnapshot {
        let deadline = ContinuousClock.now + bound
        var previous = try await SweepSnapshot.take(self, bus, mac: mac)
        while ContinuousClock.now < deadline {
            let transitional = previous.entries.contains { key, value in
                guard key.hasPrefix("device "), let state = Int(value.dropFirst(6).prefix { $0.isNumber }) else { return false }
                return (40...90).contains(state) || state == 110
            }
            try await Task.sleep(for: .milliseconds(150))
            let next = try await SweepSnapshot.take(self, bus, mac: mac)
            if !transitional && next == previous { return next }
            previous = next
        }
        return previous
    }

    /// eno1's MAC as the kernel has it now.
    func eno1MAC() async throws -> String {
        let output = try await execAsync(["ip", "-j", "link", "show", "dev", "eno1"], timeout: 60)
        return (SweepSnapshot.json(output.stdout).first?["address"] as? String ?? "").uppercased()
    }
}

// MARK: - A container for cells, reset between them

/// A container the sweep's cells run in, one after the other: after a cell it is reset to
/// exactly the state it started in (checked with a snapshot), or replaced by a fresh one when
/// that fails. Starting a container (NetworkManager, the seed profile's activation) takes 1-4 s
/// on the 2-core machine, a reset 0.3-1 s.
struct SweepContainer: Sendable {
    var container: NMContainer
    var bus: DBusConnection
    var mac: String
    /// The state right after it started: every cell begins in it.
    var before: SweepSnapshot
    var eno1UUID: String
    var eno1Keyfile: Data

    var keyfilePath: String { container.stateDirectory + "/etc/NetworkManager/system-connections/eno1.nmconnection" }

    static func start() async throws -> SweepContainer {
        let container = try await NMContainer.start(eno1Static: true)
        do {
            let bus = try await DBusConnection.connect(address: container.busAddress)
            let mac = try await container.eno1MAC()
            let before = try await container.settledSnapshot(bus, mac: mac)
            let uuid = try await container.execAsync(["nmcli", "-g", "connection.uuid", "connection", "show", "eno1"], timeout: 60)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let path = container.stateDirectory + "/etc/NetworkManager/system-connections/eno1.nmconnection"
            guard !uuid.isEmpty, let keyfile = FileManager.default.contents(atPath: path) else {
                throw TestSupportError(.commandFailed, "no seed profile eno1 in \(container.name)")
            }
            return SweepContainer(container: container, bus: bus, mac: mac, before: before, eno1UUID: uuid, eno1Keyfile: keyfile)
        } catch {
            try? await offThePool { try container.stop() }
            throw error
        }
    }

    func stop() async {
        bus.close()
        try? await offThePool { try container.stop() }
    }

    /// Back to ``before``: every profile but eno1's seed and the loopback one deleted, eno1's
    /// keyfile as it was, the bridge gone, eno1 active on its profile. Returns the state if it
    /// is exactly ``before``, else nil (the caller starts a fresh container).
    func reset() async throws -> SweepSnapshot? {
        if try await NMContainer.checkpointCount(bus) > 0 { return nil }
        if FileManager.default.contents(atPath: keyfilePath) != eno1Keyfile {
            guard FileManager.default.createFile(atPath: keyfilePath, contents: eno1Keyfile, attributes: [.posixPermissions: 0o600])
            else { return nil }
        }
        let script = """
            nmcli -g UUID,TYPE connection show | while IFS=: read -r uuid type; do
                [ "$uuid" = "\(eno1UUID)" ] || [ "$type" = loopback ] || nmcli connection delete uuid "$uuid" >/dev/null
            done
            nmcli connection load /etc/NetworkManager/system-connections/eno1.nmconnection
            ip link show br0 >/dev/null 2>&1 && ip link del br0
            [ "$(nmcli -g GENERAL.CONNECTION device show eno1)" = eno1 ] || nmcli -w 30 connection up uuid "\(eno1UUID)" >/dev/null
            true
            """
        let output = try await container.execAsync(["sh", "-c", script], timeout: 60)
        guard output.status == 0 else { return nil }
        let state = try await container.settledSnapshot(bus, mac: mac)
        guard state == before else {
            print("crash sweep: could not reset \(container.name) to before (a fresh container instead): "
                  + state.differences(from: before).joined(separator: "; "))
            return nil
        }
        return state
    }
}
