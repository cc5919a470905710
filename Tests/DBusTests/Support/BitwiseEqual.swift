#if canImport(Glibc)
import Glibc
#endif
@testable import DBus

/// Structural equality that is stricter than `==` where `==` is too forgiving for wire tests:
/// doubles must match bit for bit (so -0.0 is not 0.0, and a NaN equals the same NaN), and two
/// file descriptors are equal when they refer to the same open file (same device and inode),
/// since a received descriptor is a duplicate with a different number.
func bitwiseEqual(_ a: DBusValue, _ b: DBusValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return x.bitPattern == y.bitPattern
    case (.unixFD(let x), .unixFD(let y)):
        guard let x = fileIdentity(x.rawValue), let y = fileIdentity(y.rawValue) else { return false }
        return x == y
    case (.array(let xt, let xs), .array(let yt, let ys)):
        return xt == yt && bitwiseEqual(xs, ys)
    case (.dictionary(let xk, let xv, let xs), .dictionary(let yk, let yv, let ys)):
        return xk == yk && xv == yv && xs.count == ys.count
            && zip(xs, ys).allSatisfy { bitwiseEqual($0.key, $1.key) && bitwiseEqual($0.value, $1.value) }
    case (.structure(let xs), .structure(let ys)):
        return bitwiseEqual(xs, ys)
    case (.variant(let x), .variant(let y)):
        return bitwiseEqual(x, y)
    default:
        return a == b
    }
}

func bitwiseEqual(_ a: [DBusValue], _ b: [DBusValue]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { bitwiseEqual($0, $1) }
}

struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
}

/// The device and inode of an open descriptor, or nil if it is not open.
func fileIdentity(_ fd: Int32) -> FileIdentity? {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
}
