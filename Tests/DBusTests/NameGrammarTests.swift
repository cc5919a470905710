// The name grammars of the D-Bus specification ("Valid Names", "Valid Object Paths"), checked
// three ways: each table row says by hand whether the string is valid; libdbus's own validator
// must agree with the row; and our `init?(rawValue:)` must agree with both. Invalid rows also name
// words the error message must contain, so that the message explains the actual problem.
import CDBus
@testable import DBus
import Testing

struct NameCase: Sendable, CustomTestStringConvertible {
    /// The candidate name.
    var string: String
    /// Whether the D-Bus specification allows it, reasoned by hand.
    var valid: Bool
    /// For an invalid name: text that our error message must contain.
    var problem: String?

    var testDescription: String {
        string.utf8.count > 40 ? "\"\(string.prefix(12))…\" (\(string.utf8.count) bytes)" : "\"\(string)\""
    }
}

private func ok(_ string: String) -> NameCase { NameCase(string: string, valid: true) }
private func bad(_ string: String, _ problem: String) -> NameCase { NameCase(string: string, valid: false, problem: problem) }
private func repeated(_ character: Character, _ count: Int) -> String { String(repeating: character, count: count) }

/// Checks our type against a table row: validity, the round trip of the raw value, and the error.
private func checkOurs<N: DBusName>(_: N.Type, _ row: NameCase, kind: String) {
    let parsed = N(rawValue: row.string)
    #expect((parsed != nil) == row.valid, "init?(rawValue:) disagrees with the specification")
    if row.valid {
        #expect(parsed?.rawValue == row.string)
        #expect(parsed?.description == row.string)
        #expect(throws: Never.self) { try N(row.string) }
    } else {
        let error = #expect(throws: DBus.DBusError.self) { try N(row.string) }
        #expect(error?.code == .invalidName)
        #expect(error?.name == nil, "a local validation error has no D-Bus error name")
        #expect(error?.message.contains(kind) == true, "the message should say what kind of name: \(error?.message ?? "")")
        if let problem = row.problem {
            #expect(error?.message.contains(problem) == true, "the message should name the problem '\(problem)': \(error?.message ?? "")")
        }
        #expect(error.map { !($0.hint ?? "").isEmpty } == true, "an invalid name error carries a hint")
    }
}

@Suite("Name grammars against libdbus")
struct NameGrammarTests {
    // MARK: Object paths

    static let objectPaths: [NameCase] = [
        ok("/"),
        ok("/a"),
        ok("/org/freedesktop/NetworkManager/Devices/1"),
        ok("/_"),
        ok("/0"),
        ok("/0abc/9"),  // unlike names, path elements may start with a digit
        ok("/A_b9/c_D0"),
        ok("/a/_/0"),
        ok("/" + repeated("a", 255)),  // 256 bytes: paths have no length limit of their own
        ok("/" + Array(repeating: "element", count: 200).joined(separator: "/")),
        bad("", "empty"),
        bad("a", "start with '/'"),
        bad("a/b", "start with '/'"),
        bad(" /a", "start with '/'"),
        bad("\\a", "start with '/'"),
        bad("//", "end with '/'"),
        bad("///", "end with '/'"),
        bad("/a/", "end with '/'"),
        bad("/a/b/", "end with '/'"),
        bad("/a//b", "'//'"),
        bad("//a", "'//'"),
        bad("/a-b", "found '-'"),
        bad("/-", "found '-'"),
        bad("/a.b", "found '.'"),
        bad("/a:b", "found ':'"),
        bad("/a~", "found '~'"),
        bad("/a b", "byte 0x20"),
        bad("/a\tb", "byte 0x9"),
        bad("/é", "byte 0xc3"),
        bad("/a/ü/b", "byte 0xc3"),
    ]

    @Test(arguments: objectPaths)
    func objectPath(_ row: NameCase) {
        #expect(LibDBusOracle.isValidObjectPath(row.string) == row.valid, "the table disagrees with dbus_validate_path")
        checkOurs(ObjectPath.self, row, kind: "object path")
    }

    // MARK: Interface names

    static let interfaceNames: [NameCase] = [
        ok("a.b"),
        ok("A.B"),
        ok("org.freedesktop.NetworkManager.Device.Wireless"),
        ok("org.example.Interface1"),
        ok("_a._b"),
        ok("_._"),
        ok("a_1.b2"),
        ok("A1.B2.C3.D4.E5.F6"),
        ok("a." + repeated("b", 253)),  // exactly 255 bytes
        bad("", "empty"),
        bad("a", "two elements"),
        bad("Interface", "two elements"),
        bad("a..b", "empty element"),
        bad(".a.b", "empty element"),
        bad(".", "empty element"),
        bad("a..", "empty element"),
        bad("a.b.", "end with '.'"),
        bad("1a.b", "found '1'"),
        bad("a.1b", "found '1'"),
        bad("a.b.1", "found '1'"),
        bad(":1.42", "found ':'"),
        bad("a-b.c", "found '-'"),
        bad("a.b-c", "found '-'"),
        bad("a/b.c", "found '/'"),
        bad("a.b c", "byte 0x20"),
        bad("ä.b", "byte 0xc3"),
        bad("a.bä", "byte 0xc3"),
        bad("a." + repeated("b", 254), "longer than 255 bytes"),  // 256 bytes
        bad(repeated("a", 300), "longer than 255 bytes"),
    ]

    @Test(arguments: interfaceNames)
    func interfaceName(_ row: NameCase) {
        #expect(LibDBusOracle.isValidInterfaceName(row.string) == row.valid, "the table disagrees with dbus_validate_interface")
        checkOurs(InterfaceName.self, row, kind: "interface name")
    }

    // MARK: Error names (the interface grammar)

    static let errorNames: [NameCase] = [
        ok("org.freedesktop.DBus.Error.ServiceUnknown"),
        ok("org.freedesktop.NetworkManager.Settings.InvalidConnection"),
        ok("org.freedesktop.NetworkManager.Device.NotActive"),
        ok("a.b"),
        ok("_Error._1"),
        ok("E.x" + repeated("y", 252)),  // 255 bytes
        ok("x.Failed2"),
        ok("z.Z.z.Z"),
        bad("", "empty"),
        bad("Failed", "two elements"),
        bad("org..Failed", "empty element"),
        bad(".org.Failed", "empty element"),
        bad("org.Failed.", "end with '.'"),
        bad("org.1Failed", "found '1'"),
        bad("9org.Failed", "found '9'"),
        bad("org.Failed-Again", "found '-'"),
        bad("org.freedesktop.DBus.Error.Service Unknown", "byte 0x20"),
        bad("org/freedesktop.Error", "found '/'"),
        bad(":1.42", "found ':'"),
        bad("org.Fehlgeschlagen€", "byte 0xe2"),
        bad("org.*", "found '*'"),
        bad("E.x" + repeated("y", 253), "longer than 255 bytes"),
        bad("a.b..", "empty element"),
        bad("-.a", "found '-'"),
        bad("a.b\n", "byte 0xa"),
    ]

    @Test(arguments: errorNames)
    func errorName(_ row: NameCase) {
        #expect(LibDBusOracle.isValidErrorName(row.string) == row.valid, "the table disagrees with dbus_validate_error_name")
        checkOurs(ErrorName.self, row, kind: "error name")
    }

    // MARK: Member names

    static let memberNames: [NameCase] = [
        ok("Get"),
        ok("GetManagedObjects"),
        ok("x"),
        ok("_"),
        ok("_1"),
        ok("a1"),
        ok("Z9"),
        ok("A_b_C"),
        ok(repeated("m", 255)),
        bad("", "empty"),
        bad("1a", "found '1'"),
        bad("9", "found '9'"),
        bad("a.b", "found '.'"),
        bad(".a", "found '.'"),
        bad("a.", "found '.'"),
        bad("a-b", "found '-'"),
        bad("-a", "found '-'"),
        bad("a/", "found '/'"),
        bad(":a", "found ':'"),
        bad("a:", "found ':'"),
        bad("a b", "byte 0x20"),
        bad("a\tb", "byte 0x9"),
        bad("é", "byte 0xc3"),
        bad("aé", "byte 0xc3"),
        bad("Get\u{7F}", "byte 0x7f"),
        bad(repeated("m", 256), "longer than 255 bytes"),
        bad("org.example.Method", "found '.'"),
    ]

    @Test(arguments: memberNames)
    func memberName(_ row: NameCase) {
        #expect(LibDBusOracle.isValidMemberName(row.string) == row.valid, "the table disagrees with dbus_validate_member")
        checkOurs(MemberName.self, row, kind: "member name")
    }

    // MARK: Bus names

    static let busNames: [NameCase] = [
        ok("org.freedesktop.NetworkManager"),
        ok("org.freedesktop.DBus"),
        ok("a.b"),
        ok("a-b.c-d"),
        ok("-a.b"),  // '-' may start an element, unlike a digit
        ok("a.-b"),
        ok("_a._b"),
        ok("a.b1"),
        ok("com.example.service-2"),
        ok(":1.42"),
        ok(":1.-"),
        ok(":1.42.7"),
        ok(":1.0a"),
        ok(":a-b.c_d"),
        ok(":-.-"),
        ok("a." + repeated("b", 253)),  // 255 bytes
        ok(":1." + repeated("2", 252)),  // 255 bytes
        bad("", "empty"),
        bad("a", "two elements"),
        bad("NetworkManager", "two elements"),
        bad("1a.b", "digit"),
        bad("a.1b", "digit"),
        bad("org.example.2", "digit"),
        bad("a..b", "empty element"),
        bad(".a", "empty element"),
        bad("a.b.", "end with '.'"),
        bad(":1.", "end with '.'"),
        bad(":1..2", "empty element"),
        bad(":.", "empty element"),
        bad("::1.2", "found ':'"),
        bad("a:b.c", "found ':'"),
        bad("a/b.c", "found '/'"),
        bad("a b.c", "byte 0x20"),
        bad("ä.b", "byte 0xc3"),
        bad("a." + repeated("b", 254), "longer than 255 bytes"),
        bad(":1." + repeated("2", 253), "longer than 255 bytes"),
    ]

    @Test(arguments: busNames)
    func busName(_ row: NameCase) {
        #expect(LibDBusOracle.isValidBusName(row.string) == row.valid, "the table disagrees with dbus_validate_bus_name")
        checkOurs(BusName.self, row, kind: "bus name")
        if row.valid {
            #expect(BusName(rawValue: row.string)?.isUnique == row.string.hasPrefix(":"))
        }
    }

    /// Unique names that libdbus 1.14 accepts although the specification does not: libdbus
    /// checks only the characters after the ':' and never asks for a '.' or non-empty elements
    /// ("Bus names must contain at least one '.' ... Each element must contain at least one
    /// character"). We follow the specification; a bus never assigns such names, so being
    /// stricter than libdbus only rejects names nobody can own. If libdbus ever tightens its
    /// check, the first expectation fails and these rows can join the table above.
    static let uniqueNamesLibDBusIsLaxAbout: [NameCase] = [
        bad(":", "':'"),
        bad(":1", "two elements"),
        bad(":a", "two elements"),
        bad(":-", "two elements"),
        bad(":.1", "empty element"),
    ]

    @Test(arguments: uniqueNamesLibDBusIsLaxAbout)
    func uniqueNameStricterThanLibDBus(_ row: NameCase) {
        #expect(LibDBusOracle.isValidBusName(row.string), "libdbus now rejects this: move the row into `busNames`")
        checkOurs(BusName.self, row, kind: "bus name")
    }

    @Test func wellKnownBusNamesAreNotUnique() throws {
        let wellKnown = "org.freedesktop.NetworkManager", unique = ":1.42"
        #expect(try BusName(wellKnown).isUnique == false)
        #expect(try BusName(unique).isUnique)
    }

    // MARK: Strings containing NUL (libdbus cannot be asked: C stops at the NUL)

    @Test(arguments: ["/a\u{0}b", "a.b\u{0}", "\u{0}", "a\u{0}.b"])
    func namesWithNULAreRejected(_ string: String) {
        #expect(ObjectPath(rawValue: string) == nil)
        #expect(InterfaceName(rawValue: string) == nil)
        #expect(ErrorName(rawValue: string) == nil)
        #expect(MemberName(rawValue: string) == nil)
        #expect(BusName(rawValue: string) == nil)
    }

    @Test func aNULIsNamedInTheMessage() {
        let string = "org.example\u{0}"  // a variable: `InterfaceName("literal")` is a literal (SE-0213) and traps
        let error = #expect(throws: DBus.DBusError.self) { try InterfaceName(string) }
        #expect(error?.message.contains("byte 0x0") == true)
    }

    // MARK: Every short string over a small alphabet, then random longer ones

    /// Characters that sit on the edges of every grammar: element characters of each class,
    /// both separators, the unique-name colon and one character no grammar allows.
    static let alphabet: [Character] = ["a", "Z", "0", "_", "-", ".", "/", ":", " "]

    /// What the specification adds to libdbus's bus-name check (see `uniqueNamesLibDBusIsLaxAbout`):
    /// after a leading ':' there must be at least two elements, none of them empty.
    static func specificationAcceptsUniquePart(_ string: String) -> Bool {
        guard string.hasPrefix(":") else { return true }
        let elements = string.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return elements.count >= 2 && !elements.contains(where: \.isEmpty)
    }

    static let fuzzStrings: [String] =
        allStrings(over: alphabet, upTo: 4)  // 7,381 strings, exhaustive
        + randomStrings(over: alphabet, lengths: 5...24, count: 5_000, seed: 0x5EED_D8B5)
        + randomStrings(over: ["a", "."], lengths: 1...12, count: 500, seed: 42)  // mostly valid names
        + randomStrings(over: ["/", "a", "_"], lengths: 1...12, count: 500, seed: 43)  // mostly valid paths

    @Test func fuzzAgainstLibDBus() {
        var disagreements: [String] = []
        var accepted = [String: Int]()
        func compare(_ kind: String, _ string: String, ours: Bool, oracle: Bool) {
            if ours != oracle { disagreements.append("\(kind) \"\(string)\": ours \(ours), oracle \(oracle)") }
            if oracle { accepted[kind, default: 0] += 1 }
        }
        for s in Self.fuzzStrings {
            compare("path", s, ours: ObjectPath(rawValue: s) != nil, oracle: LibDBusOracle.isValidObjectPath(s))
            compare("interface", s, ours: InterfaceName(rawValue: s) != nil, oracle: LibDBusOracle.isValidInterfaceName(s))
            compare("error", s, ours: ErrorName(rawValue: s) != nil, oracle: LibDBusOracle.isValidErrorName(s))
            compare("member", s, ours: MemberName(rawValue: s) != nil, oracle: LibDBusOracle.isValidMemberName(s))
            compare("bus", s, ours: BusName(rawValue: s) != nil,
                    oracle: LibDBusOracle.isValidBusName(s) && Self.specificationAcceptsUniquePart(s))
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(20))")
        // The corpus must actually reach the valid side of each grammar, or agreeing proves little.
        for kind in ["path", "interface", "error", "member", "bus"] {
            #expect(accepted[kind, default: 0] >= 100, "only \(accepted[kind, default: 0]) valid \(kind) strings in the corpus")
        }
    }

    // MARK: String literals are programmer input: a bad one stops the program

    @Test func invalidObjectPathLiteralTraps() async {
        await #expect(processExitsWith: .failure) { _ = ObjectPath(stringLiteral: "no/leading/slash") }
    }

    @Test func invalidInterfaceNameLiteralTraps() async {
        await #expect(processExitsWith: .failure) { _ = InterfaceName(stringLiteral: "NoDot") }
    }

    @Test func invalidErrorNameLiteralTraps() async {
        await #expect(processExitsWith: .failure) { _ = ErrorName(stringLiteral: "org.1Failed") }
    }

    @Test func invalidMemberNameLiteralTraps() async {
        await #expect(processExitsWith: .failure) { _ = MemberName(stringLiteral: "Get-All") }
    }

    @Test func invalidBusNameLiteralTraps() async {
        await #expect(processExitsWith: .failure) { _ = BusName(stringLiteral: "org..example") }
    }

    @Test func validLiteralsAreAccepted() {
        let path: ObjectPath = "/org/freedesktop/NetworkManager"
        let interface: InterfaceName = "org.freedesktop.NetworkManager"
        let member: MemberName = "GetDevices"
        let error: ErrorName = "org.freedesktop.NetworkManager.PermissionDenied"
        let bus: BusName = ":1.7"
        #expect([path.rawValue, interface.rawValue, member.rawValue, error.rawValue, bus.rawValue]
            == ["/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager", "GetDevices",
                "org.freedesktop.NetworkManager.PermissionDenied", ":1.7"])
    }
}
