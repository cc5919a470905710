// The byte decoder (WireDecoder) against libdbus's own iterators, on the whole wire corpus, in
// both byte orders: every message must decode to the same values either way.
@testable import DBus
import Testing

@Suite("Byte decoder against libdbus's iterators")
struct WireDecoderTests {
    @Test("little-endian messages from our encoder", arguments: WireCorpus.cases)
    func ourEncoding(_ row: WireCase) throws {
        let message = try LibDBusMessage.methodCall(destination: "org.example.W", path: "/w", interface: "org.example.W", member: "M")
        try message.append(row.values)
        let received = try LibDBusMessage.demarshal(try message.marshal())
        let fast = try received.body()
        let reference = try received.bodyUsingIterators()
        #expect(bitwiseEqual(fast, reference), "\(row.name)")
        #expect(bitwiseEqual(fast, row.values), "\(row.name)")
    }

    @Test("big-endian messages written by GLib", arguments: WireCorpus.cases.filter { $0.gvariant != nil && $0.glibCanParse })
    func glibBigEndian(_ row: WireCase) throws {
        let bytes = try GLibOracle.message(withBody: row.gvariant!, bigEndian: true)
        #expect(bytes.first == UInt8(ascii: "B"))
        let received = try LibDBusMessage.demarshal(bytes)
        let fast = try received.body()
        let reference = try received.bodyUsingIterators()
        #expect(bitwiseEqual(fast, reference), "\(row.name)")
    }

    @Test("a truncated message is an error, never a crash")
    func truncated() throws {
        let message = try LibDBusMessage.methodCall(destination: "org.example.W", path: "/w", interface: "org.example.W", member: "M")
        try message.append([.string("hello"), .array(.string, [.string("a"), .string("b")]), .variant(.uint64(7))])
        let bytes = try message.marshal()
        for cut in stride(from: 0, to: bytes.count, by: 1) {
            let prefix = Array(bytes[..<cut])
            // The header check or the body decoding throws, whatever the cut.
            let threw = prefix.withUnsafeBytes { buffer -> Bool in
                guard var decoder = try? WireDecoder(message: buffer) else { return true }
                return (try? decoder.body([.string, .array(.string), .variant])) == nil
            }
            #expect(threw, "cut at \(cut) of \(bytes.count) decoded without error")
        }
    }
}
