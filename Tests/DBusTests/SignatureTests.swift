// Type signatures against libdbus's `dbus_signature_validate`: a hand-made table (each row says
// whether the specification allows the signature), then every short string over the signature
// alphabet, then random longer ones.
import CDBus
@testable import DBus
import Testing

struct SignatureCase: Sendable, CustomTestStringConvertible {
    var text: String
    var valid: Bool
    /// For valid signatures: the complete types, written out by hand.
    var types: [DBusType]?
    /// For invalid signatures: text that our error message must contain.
    var problem: String?

    var testDescription: String {
        text.utf8.count > 40 ? "\"\(text.prefix(16))…\" (\(text.utf8.count) bytes)" : "\"\(text)\""
    }
}

private func ok(_ text: String, _ types: [DBusType]? = nil) -> SignatureCase {
    SignatureCase(text: text, valid: true, types: types)
}
private func bad(_ text: String, _ problem: String) -> SignatureCase {
    SignatureCase(text: text, valid: false, problem: problem)
}

/// `n` nested arrays of `inner`: "aa…a" + inner.
private func arrays(_ n: Int, of inner: String) -> String { String(repeating: "a", count: n) + inner }
/// `n` nested structs around `inner`: "((…" + inner + "…))".
private func structs(_ n: Int, around inner: String) -> String {
    String(repeating: "(", count: n) + inner + String(repeating: ")", count: n)
}
/// `n` nested string-keyed dictionaries of `inner`: "a{sa{s…" + inner + "…}}".
private func dictionaries(_ n: Int, of inner: String) -> String {
    String(repeating: "a{s", count: n) + inner + String(repeating: "}", count: n)
}

@Suite("Signatures against libdbus")
struct SignatureTests {
    static let strv: DBusType = .array(.string)
    static let vardict: DBusType = .dictionary(key: .string, value: .variant)

    static let table: [SignatureCase] = [
        ok("", []),
        ok("y", [.byte]), ok("b", [.boolean]), ok("n", [.int16]), ok("q", [.uint16]),
        ok("i", [.int32]), ok("u", [.uint32]), ok("x", [.int64]), ok("t", [.uint64]),
        ok("d", [.double]), ok("s", [.string]), ok("o", [.objectPath]), ok("g", [.signature]),
        ok("h", [.unixFD]), ok("v", [.variant]),
        ok("ybnqiuxtdsoghv", [.byte, .boolean, .int16, .uint16, .int32, .uint32, .int64, .uint64,
                             .double, .string, .objectPath, .signature, .unixFD, .variant]),
        ok("as", [strv]),
        ok("a{sv}", [vardict]),
        ok("aa{sv}", [.array(vardict)]),
        ok("a{s(iu)}", [.dictionary(key: .string, value: .structure([.int32, .uint32]))]),
        ok("(i)", [.structure([.int32])]),
        ok("(ii)(ss)", [.structure([.int32, .int32]), .structure([.string, .string])]),
        ok("a(ii)", [.array(.structure([.int32, .int32]))]),
        ok("aay", [.array(.array(.byte))]),
        ok("sa{sv}as", [.string, vardict, strv]),
        ok("a{oa{sa{sv}}}", [.dictionary(key: .objectPath, value: .dictionary(key: .string, value: vardict))]),
        ok("a{ia{sv}}", [.dictionary(key: .int32, value: vardict)]),
        ok("(a{sv}av)", [.structure([vardict, .array(.variant)])]),
        ok("a{hv}", [.dictionary(key: .unixFD, value: .variant)]),  // every basic type may be a key
        ok("a{gs}", [.dictionary(key: .signature, value: .string)]),
        ok("a{bv}", [.dictionary(key: .boolean, value: .variant)]),
        ok("a{dv}", [.dictionary(key: .double, value: .variant)]),
        ok("a{y(a{sv}v)}", [.dictionary(key: .byte, value: .structure([vardict, .variant]))]),
        ok("((((i))))", [.structure([.structure([.structure([.structure([.int32])])])])]),
        ok(arrays(32, of: "y")),
        ok(structs(32, around: "y")),
        ok(dictionaries(32, of: "y")),  // 32 arrays and 32 dict entries
        ok(structs(32, around: arrays(32, of: "y"))),  // the deepest nesting allowed: 64
        ok(structs(32, around: "a{sy}")),  // dict entries are not counted as structs
        ok(structs(31, around: dictionaries(1, of: structs(1, around: "y")))),
        ok(String(repeating: "y", count: 255)),
        ok(String(repeating: "a{sv}", count: 51)),  // 255 bytes
        bad(arrays(33, of: "y"), "nested arrays"),
        bad(arrays(40, of: "y"), "nested arrays"),
        bad(structs(33, around: "y"), "nested structs"),
        bad(dictionaries(33, of: "y"), "nested arrays"),
        bad(String(repeating: "y", count: 256), "longer than 255 bytes"),
        bad(String(repeating: "a{sv}", count: 51) + "y", "longer than 255 bytes"),
        bad("()", "struct cannot be empty"),
        bad("a()", "struct cannot be empty"),
        bad("a{vs}", "key must be a basic type"),
        bad("a{(i)v}", "key must be a basic type"),
        bad("a{avs}", "key must be a basic type"),
        bad("a{a{ss}s}", "key must be a basic type"),
        bad("{sv}", "only appear as an array element"),
        bad("({sv})", "only appear as an array element"),
        bad("a{sva}", "exactly two types"),
        bad("a{svs}", "exactly two types"),
        bad("a{s}", "needs a value type"),
        bad("a{}", "needs a key and a value type"),
        bad("a{sv", "exactly two types"),
        bad("a{sv}}", "unbalanced '}'"),
        bad("a{{sv}}", "only appear as an array element"),
        bad("a", "followed by an element type"),
        bad("aa", "followed by an element type"),
        bad("sa", "followed by an element type"),
        bad("a)", "unbalanced ')'"),
        bad("(ii", "not closed"),
        bad("((i)", "not closed"),
        bad("ii)", "unbalanced ')'"),
        bad("(s))", "unbalanced ')'"),
        bad(")", "unbalanced ')'"),
        bad("}", "unbalanced '}'"),
        bad("ae", "reserved"),
        bad("e", "reserved"),
        bad("r", "reserved"),
        bad("(r)", "reserved"),
        bad("m", "reserved"),
        bad("ms", "reserved"),
        bad("*", "reserved"),
        bad("?", "reserved"),
        bad("@s", "reserved"),
        bad("&s", "reserved"),
        bad("^s", "reserved"),
        bad("z", "unknown type code 'z'"),
        bad("sz", "unknown type code 'z'"),
        bad("a{s v}", "unknown type code byte 0x20"),
        bad(" ", "unknown type code byte 0x20"),
        bad("S", "unknown type code 'S'"),
        bad("ä", "unknown type code byte 0xc3"),
    ]

    @Test(arguments: table)
    func signature(_ row: SignatureCase) throws {
        #expect(LibDBusOracle.isValidSignature(row.text) == row.valid, "the table disagrees with dbus_signature_validate")
        #expect((Signature(rawValue: row.text) != nil) == row.valid, "Signature(rawValue:) disagrees")
        if row.valid {
            let signature = try Signature(row.text)
            #expect(signature.rawValue == row.text)
            if let types = row.types { #expect(signature.types == types) }
            // The parsed types print back to the same text.
            #expect(signature.types.map(\.signature).joined() == row.text)
            #expect(try Signature(signature.types) == signature)
        } else {
            let error = #expect(throws: DBus.DBusError.self) { try Signature(row.text) }
            #expect(error?.code == .invalidSignature)
            if let problem = row.problem {
                #expect(error?.message.contains(problem) == true, "the message should name the problem '\(problem)': \(error?.message ?? "")")
            }
            #expect(error.map { !($0.hint ?? "").isEmpty } == true, "an invalid signature error carries a hint")
        }
    }

    /// Signatures libdbus 1.14 accepts although the specification does not: libdbus counts only
    /// consecutive 'a's ("aa(aa)" is depth 2 there), while the specification limits the nesting
    /// of "array type codes" to 32. We follow the specification. If libdbus tightens its check,
    /// the first expectation fails and these rows can join the table.
    static let arrayNestingLibDBusIsLaxAbout: [SignatureCase] = [
        bad(arrays(20, of: "(" + arrays(20, of: "y") + ")"), "nested arrays"),
        bad(arrays(31, of: "a{hax}"), "nested arrays"),
        bad(arrays(32, of: "(ay)"), "nested arrays"),
        bad(arrays(10, of: "a{s" + arrays(25, of: "y") + "}"), "nested arrays"),
    ]

    @Test(arguments: arrayNestingLibDBusIsLaxAbout)
    func arrayNestingStricterThanLibDBus(_ row: SignatureCase) {
        #expect(LibDBusOracle.isValidSignature(row.text), "libdbus now rejects this: move the row into `table`")
        #expect(Self.maximumArrayNesting(row.text) > 32, "the row does nest more than 32 arrays")
        let error = #expect(throws: DBus.DBusError.self) { try Signature(row.text) }
        #expect(error?.code == .invalidSignature)
        #expect(error?.message.contains(row.problem!) == true, "\(error?.message ?? "")")
    }

    /// The specification's array nesting of a signature that libdbus accepts, computed by a
    /// small walker of its own: each 'a' nests the one complete type that follows it.
    static func maximumArrayNesting(_ text: String) -> Int {
        let characters = Array(text)
        var index = 0
        func completeType(enclosingArrays: Int) -> Int {
            let character = characters[index]
            index += 1
            switch character {
            case "a":
                return completeType(enclosingArrays: enclosingArrays + 1)
            case "(", "{":
                let close: Character = character == "(" ? ")" : "}"
                var deepest = enclosingArrays
                while characters[index] != close { deepest = max(deepest, completeType(enclosingArrays: enclosingArrays)) }
                index += 1
                return deepest
            default:
                return enclosingArrays
            }
        }
        var deepest = 0
        while index < characters.count { deepest = max(deepest, completeType(enclosingArrays: 0)) }
        return deepest
    }

    @Test func aSingleCompleteTypeParsesAsDBusType() throws {
        #expect(try DBusType(signature: "a{oa{sa{sv}}}")
            == .dictionary(key: .objectPath, value: .dictionary(key: .string, value: Self.vardict)))
        #expect(try DBusType(signature: "(ia{sv})") == .structure([.int32, Self.vardict]))
        for text in ["", "ii", "a{sv}s", "()", "a"] {
            let error = #expect(throws: DBus.DBusError.self, "\"\(text)\"") { try DBusType(signature: text) }
            #expect(error?.code == .invalidSignature)
        }
    }

    @Test func typesPrintTheirSignature() {
        // Written by hand from the specification's type codes, not from our printer.
        let cases: [(DBusType, String)] = [
            (.byte, "y"), (.boolean, "b"), (.int16, "n"), (.uint16, "q"), (.int32, "i"), (.uint32, "u"),
            (.int64, "x"), (.uint64, "t"), (.double, "d"), (.string, "s"), (.objectPath, "o"),
            (.signature, "g"), (.unixFD, "h"), (.variant, "v"),
            (.array(.array(.byte)), "aay"),
            (.dictionary(key: .uint32, value: .array(.variant)), "a{uav}"),
            (.structure([.string, .structure([.boolean])]), "(s(b))"),
        ]
        for (type, text) in cases {
            #expect(type.signature == text)
            #expect(type.description == text)
        }
        #expect(DBusType.string.isBasic && DBusType.unixFD.isBasic && DBusType.double.isBasic)
        #expect(!DBusType.variant.isBasic && !DBusType.array(.byte).isBasic && !DBusType.structure([.byte]).isBasic)
    }

    // MARK: Exhaustive short strings, random long ones

    /// The type codes that make up most of the grammar's edges, plus reserved and unknown codes.
    static let alphabet: [Character] = ["a", "{", "}", "(", ")", "s", "v", "i", "y", "r", "e", "z"]

    /// A random complete type, written as text by a generator that knows the grammar (and
    /// shares no code with our parser), so that the corpus reaches deep into valid signatures.
    static func randomType(_ generator: inout SplitMix64, depth: Int = 0) -> String {
        let basic: [String] = ["y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g", "h"]
        switch depth > 5 ? 0 : Int.random(in: 0..<10, using: &generator) {
        case 0...3: return basic.randomElement(using: &generator)!
        case 4: return "v"
        case 5, 6: return "a" + randomType(&generator, depth: depth + 1)
        case 7: return "a{" + basic.randomElement(using: &generator)! + randomType(&generator, depth: depth + 1) + "}"
        default:
            let count = Int.random(in: 1...3, using: &generator)
            return "(" + (0..<count).map { _ in randomType(&generator, depth: depth + 1) }.joined() + ")"
        }
    }

    /// Valid signatures from `randomType`, wrapped near the nesting limits or mutated by a
    /// character or two so that many land just outside the grammar.
    static func grammarAwareSignatures(count: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        let edits: [Character] = ["a", "{", "}", "(", ")", "s", "v", "r", "e"]
        return (0..<count).map { _ in
            var text = (0..<Int.random(in: 1...3, using: &generator)).map { _ in randomType(&generator) }.joined()
            switch Int.random(in: 0..<6, using: &generator) {
            case 0:
                let n = Int.random(in: 28...34, using: &generator)
                text = String(repeating: "a", count: n) + text
            case 1:
                let n = Int.random(in: 28...34, using: &generator)
                text = String(repeating: "(", count: n) + text + String(repeating: ")", count: n)
            case 2, 3:
                for _ in 0..<Int.random(in: 1...2, using: &generator) {
                    var characters = Array(text)
                    let position = Int.random(in: 0..<characters.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: characters.remove(at: position)
                    case 1: characters.insert(edits.randomElement(using: &generator)!, at: position)
                    default: characters[position] = edits.randomElement(using: &generator)!
                    }
                    text = String(characters)
                    if text.isEmpty { break }
                }
            default:
                break  // left valid
            }
            return text
        }
    }

    static let fuzzSignatures: [String] =
        allStrings(over: alphabet, upTo: 4)  // 22,621 strings, exhaustive
        + randomStrings(over: ["a", "{", "}", "(", ")", "s", "v", "y"], lengths: 5...40, count: 10_000, seed: 0x516E)
        + grammarAwareSignatures(count: 10_000, seed: 0x6A3)

    @Test func fuzzAgainstLibDBus() {
        var disagreements: [String] = []
        var validCount = 0
        for text in Self.fuzzSignatures {
            // libdbus, plus the specification's array nesting (see `arrayNestingLibDBusIsLaxAbout`).
            let oracle = LibDBusOracle.isValidSignature(text) && Self.maximumArrayNesting(text) <= 32
            let ours = Signature(rawValue: text)
            if oracle { validCount += 1 }
            if (ours != nil) != oracle {
                disagreements.append("\"\(text)\": ours \(ours != nil), libdbus \(oracle)")
            } else if let ours, ours.types.map(\.signature).joined() != text {
                disagreements.append("\"\(text)\": prints back as \"\(ours.types.map(\.signature).joined())\"")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(20))")
        #expect(validCount >= 4_000, "only \(validCount) valid signatures in the corpus")
        #expect(validCount <= Self.fuzzSignatures.count - 4_000, "too few invalid signatures in the corpus")
    }
}
