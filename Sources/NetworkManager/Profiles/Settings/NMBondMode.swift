/// A bond's mode: the `mode` entry of `bond.options`.
///
/// Values this library does not know (from a newer NetworkManager) are kept in
/// ``other(_:)`` and sent back unchanged. Two values are equal when their wire text is.
public enum NMBondMode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `balance-rr`: Round robin (mode 0).
    case balanceRR
    /// `active-backup`: One active port, the others standby (mode 1).
    case activeBackup
    /// `balance-xor`: Transmit by hash (mode 2).
    case balanceXOR
    /// `broadcast`: Transmit on every port (mode 3).
    case broadcast
    /// `802.3ad`: LACP (mode 4).
    case ieee8023ad
    /// `balance-tlb`: Adaptive transmit load balancing (mode 5).
    case balanceTLB
    /// `balance-alb`: Adaptive load balancing (mode 6).
    case balanceALB
    /// Any other value of `bond.options["mode"]`, verbatim.
    case other(String)

    /// Every value this library names.
    public static let known: [NMBondMode] = [.balanceRR, .activeBackup, .balanceXOR, .broadcast, .ieee8023ad, .balanceTLB, .balanceALB]

    public init(rawValue: String) {
        switch rawValue {
        case "balance-rr": self = .balanceRR
        case "active-backup": self = .activeBackup
        case "balance-xor": self = .balanceXOR
        case "broadcast": self = .broadcast
        case "802.3ad": self = .ieee8023ad
        case "balance-tlb": self = .balanceTLB
        case "balance-alb": self = .balanceALB
        default: self = .other(rawValue)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .balanceRR: return "balance-rr"
        case .activeBackup: return "active-backup"
        case .balanceXOR: return "balance-xor"
        case .broadcast: return "broadcast"
        case .ieee8023ad: return "802.3ad"
        case .balanceTLB: return "balance-tlb"
        case .balanceALB: return "balance-alb"
        case .other(let value): return value
        }
    }

    public var description: String { rawValue }
    public static func == (lhs: NMBondMode, rhs: NMBondMode) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
