// GLib's GDBus, a D-Bus implementation that shares no code with libdbus, as a second oracle:
// GLib must parse the bytes our encoder produced and print exactly the GVariant text the table
// gives by hand; and our decoder must read the messages GLib writes from that same text, in
// both byte orders, back to the table's values.
//
// Unix file descriptors are left out: they travel beside the bytes (SCM_RIGHTS), so a blob alone
// cannot carry them; MarshallingTests covers them through libdbus.
@testable import DBus
import Testing

private func newMessage() throws -> LibDBusMessage {
    try LibDBusMessage.methodCall(
        destination: "org.example.Oracle", path: "/org/example/Oracle",
        interface: "org.example.Oracle", member: "Check")
}

@Suite("GLib GDBusMessage as an independent oracle")
struct GLibOracleTests {
    static let printable = WireCorpus.cases.filter { $0.gvariant != nil }
    static let parsable = printable.filter(\.glibCanParse)

    @Test(arguments: printable)
    func glibReadsWhatWeWrite(_ row: WireCase) throws {
        let message = try newMessage()
        try message.append(row.values)
        let glib = try GLibOracle.printBody(ofMessage: try message.marshal())
        #expect(glib.signature == row.signature)
        #expect(glib.body == row.gvariant)
    }

    @Test(arguments: parsable, [false, true])
    func weReadWhatGLibWrites(_ row: WireCase, bigEndian: Bool) throws {
        let bytes = try GLibOracle.message(withBody: row.gvariant!, bigEndian: bigEndian)
        #expect(bytes.first == UInt8(ascii: bigEndian ? "B" : "l"), "GLib wrote the byte order we asked for")
        let message = try LibDBusMessage.demarshal(bytes)
        #expect(message.kind == .methodCall)
        #expect(message.path == "/org/example/Oracle")
        #expect(message.member == "Check")
        #expect(message.signatureString == row.signature)
        let body = try message.body()
        #expect(bitwiseEqual(body, row.values), "decoded \(body.count) values differ from the table")
    }

    /// The oracle itself must be able to fail: GLib rejects a body whose bytes contradict the
    /// signature, and prints a different text for a different value.
    @Test func theOracleNoticesDifferences() throws {
        let message = try newMessage()
        try message.append([.uint32(1)])
        #expect(try GLibOracle.printBody(ofMessage: try message.marshal()).body == "(uint32 1,)")
        #expect(try GLibOracle.printBody(ofMessage: try message.marshal()).body != "(1,)")
        var bytes = try message.marshal()
        bytes.removeLast()
        #expect(throws: OracleFailure.self) { try GLibOracle.printBody(ofMessage: bytes) }
        #expect(throws: OracleFailure.self) { try GLibOracle.message(withBody: "(1, 'unterminated)") }
    }

    /// GLib writes dictionary entries in the order given, duplicates included. DBusValue keeps the
    /// wire order; a Swift dictionary keeps the later duplicate, as GLib and libnm do.
    @Test func duplicateKeysFromAPeerKeepWireOrderAndLaterWins() throws {
        let bytes = try GLibOracle.message(withBody: "({'b': <uint32 1>, 'a': <'x'>, 'b': <uint32 2>},)")
        let body = try LibDBusMessage.demarshal(bytes).body()
        #expect(body == [.vardict([("b", .uint32(1)), ("a", .string("x")), ("b", .uint32(2))])])
        let properties = try body[0].decode([String: DBusVariant].self)
        #expect(properties == ["a": DBusVariant(.string("x")), "b": DBusVariant(.uint32(2))])
    }
}
