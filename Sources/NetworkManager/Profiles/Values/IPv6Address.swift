/// An IPv6 address, such as `2001:db8::53`.
///
/// Parsing accepts every RFC 4291 text form (`::` compression, an embedded dotted IPv4 tail).
/// Formatting follows glibc's `inet_ntop`, which is what NetworkManager uses, so an address
/// read from NetworkManager prints back exactly as NetworkManager wrote it: lower-case hex,
/// no leading zeros, the longest run of two or more zero groups compressed (the first on a
/// tie), and `::ffff:a.b.c.d` / `::a.b.c.d` for IPv4-mapped and IPv4-compatible addresses.
public struct IPv6Address: IPAddressProtocol, ExpressibleByStringLiteral {
    /// The first 64 bits, network order (most significant first).
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    public static var bitWidth: Int { 128 }
    public static var familyName: String { "IPv6" }

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address made of eight 16-bit groups, first group first.
    public init(groups: [UInt16]) throws(NMError) {
        guard groups.count == 8 else {
            throw NMError(.invalidAddress, "an IPv6 address has 8 groups, not \(groups.count)")
        }
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    public init(bytes: [UInt8]) throws(NMError) {
        guard bytes.count == 16 else {
            throw NMError(.invalidAddress, "an IPv6 address has 16 bytes, not \(bytes.count)")
        }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public init(_ text: String) throws(NMError) {
        guard let groups = Self.parseGroups(text) else {
            throw NMError(.invalidAddress, "\(NMText.quoted(text)) is not an IPv6 address",
                          hint: "write IPv6 addresses as hex groups joined by colons, such as 2001:db8::53")
        }
        try self.init(groups: groups)
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// Whether the address is link-local unicast (`fe80::/10`).
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }

    static func parseGroups(_ text: String) -> [UInt16]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        guard let range = text.firstRange(of: "::") else {
            guard let all = parsePieces(Substring(text), allowIPv4Tail: true), all.count == 8 else { return nil }
            return all
        }
        let after = text[range.upperBound...]
        guard !after.contains("::"),
              let head = parsePieces(text[..<range.lowerBound], allowIPv4Tail: false),
              let tail = parsePieces(after, allowIPv4Tail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// Parses colon-separated hex groups (possibly empty input) with an optional dotted IPv4
    /// tail, which counts as two groups.
    private static func parsePieces(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address.parse(part) else { return nil }
                groups.append(UInt16(v4.value >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.value))
                continue
            }
            guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit), let group = UInt16(part, radix: 16) else {
                return nil
            }
            groups.append(group)
        }
        return groups
    }

    /// The text form, as glibc's `inet_ntop` writes it.
    public var description: String {
        let words = groups
        // Longest run of zero groups; the first wins a tie; runs of one are not compressed.
        var bestBase = -1, bestLength = 0, currentBase = -1, currentLength = 0
        for (index, word) in words.enumerated() {
            if word == 0 {
                if currentBase == -1 { currentBase = index; currentLength = 1 } else { currentLength += 1 }
                if currentLength > bestLength { bestBase = currentBase; bestLength = currentLength }
            } else {
                currentBase = -1
                currentLength = 0
            }
        }
        if bestLength < 2 { bestBase = -1 }
        var text = ""
        for index in 0..<8 {
            if bestBase != -1 && index >= bestBase && index < bestBase + bestLength {
                if index == bestBase { text += ":" }
                continue
            }
            if index != 0 { text += ":" }
            // An embedded IPv4 address: ::a.b.c.d (compatible) or ::ffff:a.b.c.d (mapped).
            if index == 6 && bestBase == 0 && (bestLength == 6 || (bestLength == 5 && words[5] == 0xFFFF)) {
                text += IPv4Address(value: UInt32(words[6]) << 16 | UInt32(words[7])).description
                return text
            }
            text += String(words[index], radix: 16)
        }
        if bestBase != -1 && bestBase + bestLength == 8 { text += ":" }
        return text
    }
}
