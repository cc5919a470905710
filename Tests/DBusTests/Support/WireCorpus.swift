// One table of message bodies, shared by the libdbus round-trip tests and the GLib oracle tests.
//
// Each row carries, written by hand from the D-Bus specification and GLib's GVariant text
// format (never copied from what our code produces):
// - `signature`: the message signature the body must have on the wire;
// - `gvariant`: how GLib's `g_variant_print(body, TRUE)` shows the body. GLib's style, found by
//   experiment with g_variant_parse/g_variant_print alone: int32, string, boolean and double
//   have no type prefix; other numbers do (`byte 0x05`, `uint32 1`, `int64 -1`); an empty
//   array or dictionary is annotated (`@as []`, `@a{sv} {}`) but within an array or dictionary
//   only the first element carries annotations, later ones rely on it; a byte array ending in
//   its only NUL is printed as a bytestring (`b'abc'`); a string containing `'` is quoted with
//   `"`; doubles are printed with `%.17g` plus `.0` if that has neither `.` nor `e`.
@testable import DBus
import Testing

struct WireCase: Sendable, CustomTestStringConvertible {
    var name: String
    var values: [DBusValue]
    var signature: String
    /// GLib's printed form of the body, or nil where GLib cannot take part (see the row).
    var gvariant: String?
    /// Whether `g_variant_parse` can read `gvariant` back (it cannot read subnormal doubles).
    var glibCanParse = true

    var testDescription: String { name }
}

/// Shorthands that keep the table readable.
extension DBusValue {
    static func strings(_ items: [String]) -> DBusValue { .array(.string, items.map { .string($0) }) }
    static func int32s(_ items: [Int32]) -> DBusValue { .array(.int32, items.map { .int32($0) }) }
    static func bytes(_ items: [UInt8]) -> DBusValue { .array(.byte, items.map { .byte($0) }) }
    static func path(_ text: String) -> DBusValue { .objectPath(try! ObjectPath(text)) }
    static func vardict(_ entries: [(String, DBusValue)]) -> DBusValue {
        .dictionary(key: .string, value: .variant, entries.map { .init(.string($0.0), .variant($0.1)) })
    }
}

let vardictType = DBusType.dictionary(key: .string, value: .variant)

/// A large byte array whose contents are not a palindrome and contain every byte value.
let largeBytePattern: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

enum WireCorpus {
    static let cases: [WireCase] = [
        WireCase(
            name: "no arguments", values: [], signature: "", gvariant: "()"),
        WireCase(
            name: "bytes", values: [.byte(0), .byte(255), .byte(0x7F)], signature: "yyy",
            gvariant: "(byte 0x00, byte 0xff, byte 0x7f)"),
        WireCase(
            name: "booleans", values: [.boolean(true), .boolean(false)], signature: "bb",
            gvariant: "(true, false)"),
        WireCase(
            name: "int16 extremes", values: [.int16(.min), .int16(.max), .int16(-2)], signature: "nnn",
            gvariant: "(int16 -32768, int16 32767, int16 -2)"),
        WireCase(
            name: "uint16 extremes", values: [.uint16(0), .uint16(.max), .uint16(0x1234)], signature: "qqq",
            gvariant: "(uint16 0, uint16 65535, uint16 4660)"),
        WireCase(
            name: "int32 extremes", values: [.int32(.min), .int32(.max), .int32(0), .int32(-1)], signature: "iiii",
            gvariant: "(-2147483648, 2147483647, 0, -1)"),
        WireCase(
            name: "uint32 extremes", values: [.uint32(0), .uint32(.max), .uint32(0xC000_0253)], signature: "uuu",
            gvariant: "(uint32 0, uint32 4294967295, uint32 3221226067)"),
        WireCase(
            name: "int64 extremes", values: [.int64(.min), .int64(.max), .int64(-1)], signature: "xxx",
            gvariant: "(int64 -9223372036854775808, int64 9223372036854775807, int64 -1)"),
        WireCase(
            name: "uint64 extremes", values: [.uint64(0), .uint64(.max), .uint64(0x0102_0304_0506_0708)], signature: "ttt",
            gvariant: "(uint64 0, uint64 18446744073709551615, uint64 72623859790382856)"),
        WireCase(
            name: "doubles",
            values: [.double(1.5), .double(-0.0), .double(0.0), .double(-1.0), .double(0.1), .double(1e300),
                     .double(.greatestFiniteMagnitude), .double(.infinity), .double(-.infinity)],
            signature: "ddddddddd",
            gvariant: "(1.5, -0.0, 0.0, -1.0, 0.10000000000000001, 1.0000000000000001e+300, 1.7976931348623157e+308, inf, -inf)"),
        WireCase(
            name: "subnormal double", values: [.double(.leastNonzeroMagnitude)], signature: "d",
            gvariant: "(4.9406564584124654e-324,)", glibCanParse: false),  // strtod reports ERANGE
        WireCase(
            name: "NaN", values: [.double(Double(bitPattern: 0x7FF8_0000_0000_0123))], signature: "d",
            gvariant: nil),  // compared bit for bit; GLib's "nan" would lose the payload
        WireCase(
            name: "strings",
            values: [.string(""), .string("héllo ✓ 😀"), .string("it's \"quoted\"\n\t\\"), .string("a\u{1}b"),
                     .string("plain")],
            signature: "sssss",
            gvariant: #"('', 'héllo ✓ 😀', "it's \"quoted\"\n\t\\", 'a\u0001b', 'plain')"#),
        WireCase(
            name: "object paths and signatures",
            values: [.path("/"), .path("/org/freedesktop/NetworkManager/Devices/3"), .signature(""), .signature("a{sv}"),
                     .signature("(ia{oa{sa{sv}}})")],
            signature: "oogg" + "g",
            gvariant: "(objectpath '/', objectpath '/org/freedesktop/NetworkManager/Devices/3', signature '', signature 'a{sv}', signature '(ia{oa{sa{sv}}})')"),
        WireCase(
            name: "empty arrays of several element types",
            values: [.array(.string, []), .array(vardictType, []), .array(.structure([.int32, .int32]), []),
                     .array(.variant, []), .dictionary(key: .string, value: .variant, []), .array(.array(.objectPath), [])],
            signature: "asaa{sv}a(ii)ava{sv}aao",
            gvariant: "(@as [], @aa{sv} [], @a(ii) [], @av [], @a{sv} {}, @aao [])"),
        WireCase(
            name: "byte arrays",
            values: [.bytes([]), .bytes([0x61, 0x62, 0x63]), .bytes([0x61, 0x62, 0x63, 0x00]), .bytes([0x00])],
            signature: "ayayayay",
            gvariant: "(@ay [], [byte 0x61, 0x62, 0x63], b'abc', b'')"),
        WireCase(
            name: "100k byte array", values: [.bytes(largeBytePattern)], signature: "ay",
            gvariant: "([" + largeBytePattern.enumerated().map { index, byte in
                (index == 0 ? "byte 0x" : "0x") + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }.joined(separator: ", ") + "],)"),
        WireCase(
            name: "dictionary of variants",
            values: [.vardict([("a", .uint32(1)), ("b", .string("x")), ("c", .strings(["p", "q"])), ("d", .boolean(false))])],
            signature: "a{sv}",
            gvariant: "({'a': <uint32 1>, 'b': <'x'>, 'c': <['p', 'q']>, 'd': <false>},)"),
        WireCase(
            name: "nested variants",
            values: [.variant(.variant(.int32s([1, 2]))), .variant(.variant(.variant(.int32(5)))),
                     .variant(.array(.string, [])), .variant(.dictionary(key: .string, value: .variant, [])),
                     .variant(.byte(5)), .variant(.vardict([("x", .variant(.int32s([1, 2])))]))],
            signature: "vvvvvv",
            gvariant: "(<<[1, 2]>>, <<<5>>>, <@as []>, <@a{sv} {}>, <byte 0x05>, <{'x': <<[1, 2]>>}>)"),
        WireCase(
            // One variant of each basic type: the byte decoder reads these from their one
            // signature byte, without parsing (WireDecoder.variantType).
            name: "a variant of every basic type",
            values: [.array(.variant, [.variant(.byte(255)), .variant(.boolean(true)), .variant(.int16(-2)),
                                       .variant(.uint16(65535)), .variant(.int32(-3)), .variant(.uint32(4)),
                                       .variant(.int64(-5)), .variant(.uint64(6)), .variant(.double(0.5)),
                                       .variant(.string("s")), .variant(.path("/o")),
                                       .variant(.signature("a{sv}"))])],
            signature: "av",
            gvariant: nil),
        WireCase(
            // Variant types of 1 to 12 signature bytes, twice each: the decoder caches them by
            // packed bytes up to 7, by text beyond (WireDecoder.variantType).
            name: "variants of short and long container types",
            values: [.array(.variant, [
                .variant(.bytes([1, 2])), .variant(.strings(["a"])), .variant(.vardict([("k", .variant(.uint32(1)))])),
                .variant(.array(vardictType, [.vardict([("address", .variant(.string("192.0.2.1")))])])),
                .variant(.dictionary(key: .string, value: vardictType, [.init(.string("ipv4"), .vardict([("method", .variant(.string("auto")))]))])),
                .variant(.dictionary(key: .objectPath, value: .dictionary(key: .string, value: vardictType), [])),
                .variant(.bytes([3])), .variant(.strings([])),
                .variant(.dictionary(key: .string, value: vardictType, [])),
            ])],
            signature: "av",
            gvariant: nil),
        WireCase(
            name: "array of variants",
            values: [.array(.variant, [.variant(.int32(1)), .variant(.string("a")), .variant(.path("/x")),
                                       .variant(.array(.string, []))])],
            signature: "av",
            gvariant: "([<1>, <'a'>, <objectpath '/x'>, <@as []>],)"),
        WireCase(
            name: "struct with nested arrays",
            values: [.structure([.int32(7), .strings(["a"]),
                                 .structure([.boolean(true), .array(.array(.byte), [.bytes([1]), .bytes([])])])])],
            signature: "(ias(baay))",
            gvariant: "((7, ['a'], (true, [[byte 0x01], []])),)"),
        WireCase(
            name: "array of structs",
            values: [.array(.structure([.int32, .array(.string)]),
                            [.structure([.int32(1), .strings([])]), .structure([.int32(2), .strings(["x"])])])],
            signature: "a(ias)",
            gvariant: "([(1, @as []), (2, ['x'])],)"),
        WireCase(
            name: "GetManagedObjects a{oa{sa{sv}}}",
            values: [.dictionary(key: .objectPath, value: .dictionary(key: .string, value: vardictType), [
                .init(.path("/org/freedesktop/NetworkManager/Devices/1"),
                      .dictionary(key: .string, value: vardictType, [
                        .init(.string("org.freedesktop.NetworkManager.Device"),
                              .vardict([("Interface", .string("eth0")), ("State", .uint32(100)),
                                        ("Ip4Address", .uint32(0x3502_00C0))])),
                        .init(.string("org.freedesktop.DBus.Properties"), .vardict([])),
                      ])),
                .init(.path("/org/freedesktop/NetworkManager/Settings/7"),
                      .dictionary(key: .string, value: vardictType, [])),
            ])],
            signature: "a{oa{sa{sv}}}",
            gvariant: "({objectpath '/org/freedesktop/NetworkManager/Devices/1': {'org.freedesktop.NetworkManager.Device': "
                + "{'Interface': <'eth0'>, 'State': <uint32 100>, 'Ip4Address': <uint32 889323712>}, "
                + "'org.freedesktop.DBus.Properties': {}}, '/org/freedesktop/NetworkManager/Settings/7': {}},)"),
        WireCase(
            name: "IPv4 addresses aau in network byte order (192.0.2.53/24)",
            values: [.array(.array(.uint32), [.array(.uint32, [.uint32(0x3502_00C0), .uint32(24), .uint32(0)])])],
            signature: "aau",
            gvariant: "([[uint32 889323712, 24, 0]],)"),
        WireCase(
            name: "dictionaries with non-string keys",
            values: [.dictionary(key: .int64, value: .boolean, [.init(.int64(-5), .boolean(true)), .init(.int64(7), .boolean(false))]),
                     .dictionary(key: .byte, value: .double, [.init(.byte(1), .double(1.5))]),
                     .dictionary(key: .objectPath, value: .array(.string), [.init(.path("/a"), .strings(["b"]))])],
            signature: "a{xb}a{yd}a{oas}",
            gvariant: "({int64 -5: true, 7: false}, {byte 0x01: 1.5}, {objectpath '/a': ['b']})"),
        WireCase(
            name: "every basic type in one struct",
            values: [.structure([.byte(0x2A), .boolean(true), .int16(-300), .uint16(300), .int32(-70_000), .uint32(70_000),
                                 .int64(-5_000_000_000), .uint64(5_000_000_000), .double(2.5), .string("s"),
                                 .path("/o"), .signature("g")])],
            signature: "(ybnqiuxtdsog)",
            gvariant: "((byte 0x2a, true, int16 -300, uint16 300, -70000, uint32 70000, int64 -5000000000, uint64 5000000000, 2.5, 's', objectpath '/o', signature 'g'),)"),
    ]
}
