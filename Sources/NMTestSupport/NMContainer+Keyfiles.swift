import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One profile written by ``NMContainer/writeInertProfiles(count:prefix:)``: what a test
/// expects to read back.
public struct InertProfile: Sendable, Hashable {
    /// `connection.id`: `PREFIX-00042`.
    public var name: String
    /// `connection.uuid`, lower case.
    public var uuid: String
    /// `connection.interface-name`: an interface that does not exist in the container.
    public var interface: String
    /// The one static IPv4 address, `10.A.B.10/24`, unique per profile.
    public var ipv4Address: String
}

extension NMContainer {
    /// The container's private `/etc/NetworkManager/system-connections`, as seen from the host.
    public var keyfileDirectory: String { stateDirectory + "/etc/NetworkManager/system-connections" }

    /// Writes `count` inert profiles as keyfiles into the container's private
    /// `/etc/NetworkManager/system-connections`, mode 0600 (NetworkManager ignores a keyfile
    /// that others may read) and owned by the caller (root). NetworkManager does not watch the
    /// directory: load them with `Settings.ReloadConnections` (`NMClient.reloadProfiles()`, or
    /// `nmcli connection reload` inside), with a long timeout for thousands: NetworkManager 1.42
    /// takes seconds per thousand, more than linearly (docs/networkmanager-quirks.md).
    ///
    /// Each is an ethernet profile bound to an interface name that does not exist in the
    /// container (`PREFIX` shortened, then the index), with autoconnect off, a static IPv4
    /// address and IPv6 disabled: loading thousands of them changes nothing on the network,
    /// and every one can be recognised when read back.
    ///
    /// - Parameter prefix: 1-8 characters of `[a-z]`; names are `PREFIX-00000`, ...
    /// - Returns: what was written, in index order.
    @discardableResult
    public func writeInertProfiles(count: Int, prefix: String = "inert") throws -> [InertProfile] {
        guard (1...8).contains(prefix.count), prefix.allSatisfy({ $0.isASCII && $0.isLowercase }), count <= 60_000 else {
            throw TestSupportError(.invalidArgument, "writeInertProfiles: prefix '\(prefix)' or count \(count) out of range")
        }
        var written: [InertProfile] = []
        written.reserveCapacity(count)
        for index in 0..<count {
            let name = "\(prefix)-" + String(repeating: "0", count: max(0, 5 - String(index).count)) + String(index)
            // At most 15 bytes: 4 letters of the prefix and 5 digits.
            let profile = InertProfile(
                name: name, uuid: UUID().uuidString.lowercased(), interface: "\(prefix.prefix(4))x\(index)",
                ipv4Address: "10.\(100 + index / 250).\(index % 250).10/24")
            let text = """
                [connection]
                id=\(profile.name)
                uuid=\(profile.uuid)
                type=ethernet
                interface-name=\(profile.interface)
                autoconnect=false

                [ethernet]

                [ipv4]
                method=manual
                address1=\(profile.ipv4Address)

                [ipv6]
                method=disabled

                """
            try Self.writePrivateFile(keyfileDirectory + "/" + name + ".nmconnection", text)
            written.append(profile)
        }
        return written
    }

    /// Creates (or truncates) `path` with mode 0600 from the start: no moment where others
    /// could read it, and no umask in the way.
    static func writePrivateFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw TestSupportError(.commandFailed, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else {
            throw TestSupportError(.commandFailed, "cannot chmod \(path): \(String(cString: strerror(errno)))")
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw TestSupportError(.commandFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}
