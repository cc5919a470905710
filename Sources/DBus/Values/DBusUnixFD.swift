#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Unix file descriptor passed over D-Bus (type `h`), owned by this object.
///
/// The descriptor is closed when the last reference goes away. Received descriptors are
/// duplicates made by libdbus, so each one is ours to own; to send a descriptor that you
/// keep using, wrap a duplicate (``init(duplicating:)``).
public final class DBusUnixFD: Hashable, Sendable {
    /// The descriptor number, valid while this object lives.
    public let rawValue: Int32

    /// Takes ownership of `fd`: it will be closed when this object is released.
    public init(takingOwnershipOf fd: Int32) { rawValue = fd }

    /// Duplicates `fd` (with close-on-exec) and owns the duplicate.
    public init(duplicating fd: Int32) throws(DBusError) {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else {
            throw DBusError(.invalidValue, "cannot duplicate file descriptor \(fd): errno \(errno)")
        }
        rawValue = copy
    }

    deinit { close(rawValue) }

    public static func == (lhs: DBusUnixFD, rhs: DBusUnixFD) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
