/// A NetworkManager version, such as 1.42.4, ordered numerically.
///
/// Read from the `org.freedesktop.NetworkManager.Version` property. Development snapshots
/// ("1.41.4-dev") keep their suffix in ``rawValue`` and compare by their numbers.
public struct NMVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var micro: Int
    /// The text NetworkManager reported.
    public var rawValue: String

    public init(_ major: Int, _ minor: Int, _ micro: Int = 0) {
        self.major = major
        self.minor = minor
        self.micro = micro
        rawValue = "\(major).\(minor).\(micro)"
    }

    /// Parses "1.42.4", "1.42" or "1.41.4-dev".
    public init?(_ text: String) {
        let numeric = text.prefix { $0.isNumber || $0 == "." }
        let parts = numeric.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return nil }
        major = parts[0]
        minor = parts[1]
        micro = parts.count > 2 ? parts[2] : 0
        rawValue = text
    }

    public static func < (lhs: NMVersion, rhs: NMVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.micro) < (rhs.major, rhs.minor, rhs.micro)
    }

    public static func == (lhs: NMVersion, rhs: NMVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.micro) == (rhs.major, rhs.minor, rhs.micro)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(micro)
    }

    public var description: String { rawValue }
}
