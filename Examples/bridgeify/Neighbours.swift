// Carrying the NIC's neighbour entries (ARP, NDP) over to the bridge: the one thing here that
// talks to the kernel directly (rtnetlink) rather than to NetworkManager, which does not manage
// neighbour tables.
//
// Why: NetworkManager 1.42 puts the address on the new bridge before the NIC is its port, while
// the bridge has no carrier. A packet the host sends in that window (a reply to someone on the
// LAN, the gateway probe) starts a neighbour lookup whose request goes nowhere; the kernel
// queues the packets behind the unresolved (INCOMPLETE) entry and asks again only after its
// retransmit time, 1 s. Seen from the LAN the host was then unreachable for about a second
// (docs/networkmanager-quirks.md, "A neighbour lookup in a carrier gap costs a second").
//
// What: before the transaction, read the NIC's resolved entries (its MAC for 192.168.1.1 and
// the like). Right after the library has activated the bridge with the NIC attached (an
// NMTransactionHook, before verification and the probes), write them onto the bridge as STALE:
// a STALE entry replaces an INCOMPLETE one, the kernel sends the queued packets at once, and it
// confirms the entry itself on first use (STALE means "believed, not verified"). A lookup still
// pending on the bridge for an address the NIC did not know is deleted, so that the next packet
// starts a fresh one now that the bridge has carrier, instead of waiting out the second.
//
// It is an optimisation: when it fails, the conversion goes on and the step says why.
import Foundation
import NetworkManager

#if canImport(Glibc)
import Glibc
#endif

/// One entry of the kernel's neighbour table.
struct NeighbourEntry: Sendable, Hashable, CustomStringConvertible {
    /// `AF_INET` or `AF_INET6`.
    var family: UInt8
    /// The IP address: 4 or 16 bytes, network order.
    var address: [UInt8]
    /// The link-layer (MAC) address.
    var linkAddress: [UInt8]
    /// `NUD_*` bits.
    var state: UInt16
    /// `NTF_*` bits (`NTF_ROUTER`: an IPv6 router).
    var flags: UInt8
    /// The interface index.
    var interfaceIndex: Int32

    /// Resolved: the kernel holds a link-layer address it believes (REACHABLE, STALE, DELAY,
    /// PROBE) or that someone set for good (PERMANENT).
    var isResolved: Bool { state & Netlink.resolvedStates != 0 && !linkAddress.isEmpty }
    /// A lookup in progress: packets to it wait in the kernel's queue.
    var isPending: Bool { state & Netlink.NUD_INCOMPLETE != 0 }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let text = address.withUnsafeBytes { bytes in
            buffer.withUnsafeMutableBufferPointer { out in
                inet_ntop(Int32(family), bytes.baseAddress, out.baseAddress, socklen_t(out.count)).map { String(cString: $0) }
            }
        }
        return text ?? "?"
    }
}

enum Neighbours {
    /// The resolved IPv4 and IPv6 entries of `interface` (INCOMPLETE, FAILED and NOARP ones,
    /// such as multicast, are left out). Empty when the interface is not in this process's
    /// network namespace: there is nothing this process could carry then.
    static func resolved(on interface: String) throws -> [NeighbourEntry] {
        let index = if_nametoindex(interface)
        guard index != 0 else { return [] }
        return try Netlink.dumpNeighbours().filter { $0.interfaceIndex == Int32(index) && $0.isResolved }
    }

    /// Writes `entries` onto `bridge` where it has no resolved entry of its own, and deletes
    /// the bridge's pending lookups for other addresses. Returns what it did, for the step
    /// record: "2 carried to br0 (192.168.1.1, fe80::1)".
    static func carry(_ entries: [NeighbourEntry], to bridge: String) throws -> String {
        let index = if_nametoindex(bridge)
        guard index != 0 else { throw Netlink.Failure("\(bridge) is not in this process's network namespace") }
        let onBridge = try Netlink.dumpNeighbours().filter { $0.interfaceIndex == Int32(index) }
        func key(_ entry: NeighbourEntry) -> [UInt8] { [entry.family] + entry.address }
        let resolvedThere = Set(onBridge.filter(\.isResolved).map(key))
        var carried: [NeighbourEntry] = []
        var problems: [String] = []
        var kept = 0
        for entry in entries {
            guard !resolvedThere.contains(key(entry)) else {
                kept += 1  // the bridge learnt it already: its own entry is at least as fresh
                continue
            }
            var moved = entry
            moved.interfaceIndex = Int32(index)
            // STALE, so that the kernel confirms the address on first use; a PERMANENT entry
            // (set by an administrator) stays permanent.
            moved.state = entry.state & Netlink.NUD_PERMANENT != 0 ? Netlink.NUD_PERMANENT : Netlink.NUD_STALE
            moved.flags = entry.flags & Netlink.NTF_ROUTER
            // One entry the kernel refuses does not keep the others from being carried.
            do {
                try Netlink.replaceNeighbour(moved)
                carried.append(moved)
            } catch {
                problems.append("\(entry): \(error)")
            }
        }
        let known = Set(entries.map(key))
        var restarted: [NeighbourEntry] = []
        for entry in onBridge where entry.isPending && !known.contains(key(entry)) {
            do {
                try Netlink.deleteNeighbour(entry)
                restarted.append(entry)
            } catch {
                problems.append("\(entry): \(error)")
            }
        }
        if !problems.isEmpty && carried.isEmpty && restarted.isEmpty {
            throw Netlink.Failure(problems.joined(separator: "; "))
        }
        var parts: [String] = []
        if !carried.isEmpty {
            let shown = carried.prefix(4).map(\.description).joined(separator: ", ") + (carried.count > 4 ? ", ..." : "")
            parts.append("\(carried.count) carried to \(bridge) (\(shown))")
        }
        if kept > 0 { parts.append("\(kept) already resolved on \(bridge)") }
        if !problems.isEmpty { parts.append("\(problems.count) refused (\(problems.joined(separator: "; ")))") }
        if !restarted.isEmpty {
            let shown = restarted.prefix(4).map(\.description).joined(separator: ", ") + (restarted.count > 4 ? ", ..." : "")
            parts.append("\(restarted.count) pending lookup\(restarted.count == 1 ? "" : "s") on \(bridge) restarted (\(shown))")
        }
        if entries.isEmpty && restarted.isEmpty { parts.append("none known, none pending") }
        return parts.joined(separator: ", ")
    }

    /// The step that carries `interface`'s entries onto `bridge` once the transaction has
    /// activated it with `interface` attached; IPv6 ones only when `ipv6` (the bridge has
    /// IPv6). The entries are read now, before the transaction: the NIC loses them with its
    /// address. Not required: when it fails, the conversion goes on and its step record says why.
    static func hook(from interface: String, to bridge: String, ipv6: Bool) async -> NMTransactionHook {
        let known: Result<[NeighbourEntry], any Error>
        do {
            // IPv6 entries only for a bridge with IPv6: there they would only take room.
            let entries = try await blocking { try resolved(on: interface) }
            known = .success(entries.filter { ipv6 || $0.family == UInt8(AF_INET) })
        } catch {
            known = .failure(error)
        }
        return NMTransactionHook("neighbours", budget: .seconds(1), required: false) {
            let entries: [NeighbourEntry]
            do {
                entries = try known.get()
            } catch {
                throw Netlink.Failure("could not read \(interface)'s neighbour table before the change: \(error)")
            }
            return try await blocking { try carry(entries, to: bridge) }
        }
    }

    /// Runs `body` on a thread of its own, off the cooperative pool (a netlink round trip is
    /// quick, but it is a blocking system call all the same).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Just enough rtnetlink (AF_NETLINK, NETLINK_ROUTE; rtnetlink(7), linux/neighbour.h) to dump,
/// replace and delete neighbour entries. Messages are built byte by byte in the host's byte
/// order, as netlink wants; the constants come from the kernel's UAPI headers, which Glibc's
/// module does not export.
enum Netlink {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // linux/netlink.h
    static let NLMSG_ERROR: UInt16 = 2
    static let NLMSG_DONE: UInt16 = 3
    static let NLM_F_REQUEST: UInt16 = 0x01
    static let NLM_F_ACK: UInt16 = 0x04
    static let NLM_F_DUMP: UInt16 = 0x300
    static let NLM_F_REPLACE: UInt16 = 0x100
    static let NLM_F_CREATE: UInt16 = 0x400
    static let NETLINK_ROUTE: Int32 = 0
    // linux/rtnetlink.h
    static let RTM_NEWNEIGH: UInt16 = 28
    static let RTM_DELNEIGH: UInt16 = 29
    static let RTM_GETNEIGH: UInt16 = 30
    // linux/neighbour.h
    static let NDA_DST: UInt16 = 1
    static let NDA_LLADDR: UInt16 = 2
    static let NUD_INCOMPLETE: UInt16 = 0x01
    static let NUD_REACHABLE: UInt16 = 0x02
    static let NUD_STALE: UInt16 = 0x04
    static let NUD_DELAY: UInt16 = 0x08
    static let NUD_PROBE: UInt16 = 0x10
    static let NUD_PERMANENT: UInt16 = 0x80
    static let NTF_ROUTER: UInt8 = 0x80
    static let resolvedStates = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT

    static let headerSize = 16  // struct nlmsghdr
    static let ndmsgSize = 12   // struct ndmsg

    /// Every neighbour entry of this network namespace, IPv4 and IPv6.
    static func dumpNeighbours() throws -> [NeighbourEntry] {
        var entries: [NeighbourEntry] = []
        // struct ndmsg, family AF_UNSPEC: both families.
        try request(type: RTM_GETNEIGH, flags: NLM_F_REQUEST | NLM_F_DUMP, body: ndmsg(family: 0, index: 0, state: 0, flags: 0)) { type, payload in
            guard type == RTM_NEWNEIGH, let entry = parseNeighbour(payload) else { return }
            entries.append(entry)
        }
        return entries.filter { $0.family == UInt8(AF_INET) || $0.family == UInt8(AF_INET6) }
    }

    /// Creates or replaces `entry` (`ip neigh replace ADDRESS lladdr MAC nud STATE dev DEV`).
    static func replaceNeighbour(_ entry: NeighbourEntry) throws {
        var body = ndmsg(family: entry.family, index: entry.interfaceIndex, state: entry.state, flags: entry.flags)
        appendAttribute(&body, NDA_DST, entry.address)
        appendAttribute(&body, NDA_LLADDR, entry.linkAddress)
        try request(type: RTM_NEWNEIGH, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, body: body) { _, _ in }
    }

    /// Deletes `entry` (`ip neigh del ADDRESS dev DEV`); one already gone is not an error.
    static func deleteNeighbour(_ entry: NeighbourEntry) throws {
        var body = ndmsg(family: entry.family, index: entry.interfaceIndex, state: 0, flags: 0)
        appendAttribute(&body, NDA_DST, entry.address)
        do {
            try request(type: RTM_DELNEIGH, flags: NLM_F_REQUEST | NLM_F_ACK, body: body) { _, _ in }
        } catch let failure as Errno where failure.code == ENOENT {
        }
    }

    struct Errno: Error, CustomStringConvertible {
        var code: Int32
        var what: String
        var description: String { "\(what): \(String(cString: strerror(code)))" }
    }

    static func ndmsg(family: UInt8, index: Int32, state: UInt16, flags: UInt8) -> [UInt8] {
        var bytes: [UInt8] = [family, 0, 0, 0]  // ndm_family, ndm_pad1, ndm_pad2
        append(&bytes, index)                   // ndm_ifindex
        append(&bytes, state)                   // ndm_state
        bytes += [flags, 0]                     // ndm_flags, ndm_type
        return bytes
    }

    static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    /// A route attribute (struct rtattr: length, type, value), padded to 4 bytes.
    static func appendAttribute(_ bytes: inout [UInt8], _ type: UInt16, _ value: [UInt8]) {
        append(&bytes, UInt16(4 + value.count))
        append(&bytes, type)
        bytes += value
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    static func read<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, at offset: Int, as: T.Type) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<MemoryLayout<T>.size { raw[index] = bytes[bytes.startIndex + offset + index] }
        }
        return value
    }

    static func parseNeighbour(_ payload: ArraySlice<UInt8>) -> NeighbourEntry? {
        guard payload.count >= ndmsgSize else { return nil }
        var entry = NeighbourEntry(
            family: payload[payload.startIndex], address: [], linkAddress: [],
            state: read(payload, at: 8, as: UInt16.self), flags: payload[payload.startIndex + 10],
            interfaceIndex: read(payload, at: 4, as: Int32.self))
        var offset = ndmsgSize
        while offset + 4 <= payload.count {
            let length = Int(read(payload, at: offset, as: UInt16.self))
            let type = read(payload, at: offset + 2, as: UInt16.self) & 0x3FFF  // without NLA_F_NESTED/NET_BYTEORDER
            guard length >= 4, offset + length <= payload.count else { break }
            let start = payload.startIndex + offset + 4
            let value = Array(payload[start..<(start + length - 4)])
            if type == NDA_DST { entry.address = value }
            if type == NDA_LLADDR { entry.linkAddress = value }
            offset += (length + 3) & ~3
        }
        guard entry.address.count == (entry.family == UInt8(AF_INET) ? 4 : 16) else { return nil }
        return entry
    }

    /// Sends one request and reads its answers until the dump ends or the kernel acknowledges,
    /// handing every other message to `each`. A negative acknowledgement throws ``Errno``.
    static func request(type: UInt16, flags: UInt16, body: [UInt8],
                        _ each: (_ type: UInt16, _ payload: ArraySlice<UInt8>) throws -> Void) throws {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw Errno(code: errno, what: "netlink socket") }
        defer { close(fd) }
        // The kernel answers at once; the timeout only keeps a surprise from hanging the step.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sequence = UInt32.random(in: 1...UInt32.max)
        var message: [UInt8] = []
        append(&message, UInt32(headerSize + body.count))  // nlmsg_len
        append(&message, type)                              // nlmsg_type
        append(&message, flags)                             // nlmsg_flags
        append(&message, sequence)                          // nlmsg_seq
        append(&message, UInt32(0))                         // nlmsg_pid: the kernel fills it in
        message += body
        // Unbound and unaddressed: the message goes to the kernel (port id 0).
        let sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { throw Errno(code: errno, what: "netlink send") }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Errno(code: count < 0 ? errno : EIO, what: "netlink receive") }
            var offset = 0
            while offset + headerSize <= count {
                let chunk = buffer[offset..<count]
                let length = Int(read(chunk, at: 0, as: UInt32.self))
                let kind = read(chunk, at: 4, as: UInt16.self)
                let replySequence = read(chunk, at: 8, as: UInt32.self)
                guard length >= headerSize, offset + length <= count else { throw Failure("malformed netlink message") }
                let payload = buffer[(offset + headerSize)..<(offset + length)]
                offset += (length + 3) & ~3
                guard replySequence == sequence else { continue }
                switch kind {
                case NLMSG_DONE:
                    return
                case NLMSG_ERROR:
                    // struct nlmsgerr: a negative errno, or 0 for an acknowledgement.
                    let code = payload.count >= 4 ? read(payload, at: 0, as: Int32.self) : -EIO
                    if code == 0 { return }
                    throw Errno(code: -code, what: type == RTM_DELNEIGH ? "deleting a neighbour" : "writing a neighbour")
                default:
                    try each(kind, payload)
                }
            }
        }
    }
}
