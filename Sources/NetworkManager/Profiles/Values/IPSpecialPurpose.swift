/// Why an address cannot be a host's own unicast address (nor a gateway's): the blocks of
/// the IANA special-purpose registries (RFC 6890) that the kernel and every peer treat
/// specially. NetworkManager 1.42 accepts all of them in `ipv4.addresses`, and the host that
/// gets one reaches nothing (docs/networkmanager-quirks.md).
///
/// Link-local addresses (`169.254.0.0/16`, `fe80::/10`) are not special here: a host may
/// well have one.
public enum IPSpecialPurpose: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `0.0.0.0` or `::`: "no address".
    case unspecified
    /// `0.0.0.0/8` other than `0.0.0.0`: "this network", a source address only while a host
    /// has none yet.
    case thisNetwork = "this-network"
    /// `127.0.0.0/8` or `::1`.
    case loopback
    /// `224.0.0.0/4` or `ff00::/8`.
    case multicast
    /// `255.255.255.255`.
    case limitedBroadcast = "limited-broadcast"
    /// `240.0.0.0/4` other than `255.255.255.255` (the former class E).
    case reserved

    /// "a multicast address (224.0.0.0/4)", for messages.
    public var description: String {
        switch self {
        case .unspecified: return "the unspecified address"
        case .thisNetwork: return "in 0.0.0.0/8 (\"this network\")"
        case .loopback: return "a loopback address"
        case .multicast: return "a multicast address"
        case .limitedBroadcast: return "the limited broadcast address"
        case .reserved: return "in the reserved block 240.0.0.0/4"
        }
    }
}

extension IPv4Address {
    /// The special purpose of this address, or `nil` for an ordinary unicast address.
    public var specialPurpose: IPSpecialPurpose? {
        switch value >> 24 {
        case 0: return value == 0 ? .unspecified : .thisNetwork
        case 127: return .loopback
        case 224...239: return .multicast
        case 240...255: return value == .max ? .limitedBroadcast : .reserved
        default: return nil
        }
    }

    /// Whether the address is link-local (`169.254.0.0/16`).
    public var isLinkLocal: Bool { value >> 16 == 0xA9FE }
}

extension IPv6Address {
    /// The special purpose of this address (unspecified, loopback, multicast), or `nil`.
    public var specialPurpose: IPSpecialPurpose? {
        if high == 0 && low == 0 { return .unspecified }
        if high == 0 && low == 1 { return .loopback }
        if high >> 56 == 0xFF { return .multicast }
        return nil
    }
}
