// Independent implementations the tests compare our code with: libdbus's own validators
// (the library we wrap) and GLib's GDBus (a second, unrelated D-Bus implementation).
import CDBus
import CGLibOracle
@testable import DBus

/// libdbus's validators, called directly.
///
/// A Swift string with an embedded NUL cannot be asked: C would see only its prefix. Tests
/// keep NUL out of what they pass here and check NUL handling separately.
enum LibDBusOracle {
    static func isValidObjectPath(_ string: String) -> Bool { check(string, dbus_validate_path) }
    static func isValidInterfaceName(_ string: String) -> Bool { check(string, dbus_validate_interface) }
    static func isValidMemberName(_ string: String) -> Bool { check(string, dbus_validate_member) }
    static func isValidErrorName(_ string: String) -> Bool { check(string, dbus_validate_error_name) }
    static func isValidBusName(_ string: String) -> Bool { check(string, dbus_validate_bus_name) }
    static func isValidSignature(_ string: String) -> Bool { check(string, dbus_signature_validate) }

    /// Calls a `dbus_validate_*`-style function with a real `DBusError` and checks that libdbus
    /// fills it in exactly when it says "invalid" (so the answer is not an accident of a NULL error).
    private static func check(
        _ string: String,
        _ validate: (UnsafePointer<CChar>?, UnsafeMutablePointer<CDBus.DBusError>?) -> dbus_bool_t
    ) -> Bool {
        precondition(!string.utf8.contains(0), "libdbus cannot see past a NUL")
        var error = CDBus.DBusError()
        dbus_error_init(&error)
        defer { dbus_error_free(&error) }
        let valid = string.withCString { validate($0, &error) } != 0
        precondition(valid == (dbus_error_is_set(&error) == 0), "libdbus set an error and said valid, or the reverse")
        // The same question without an error out-parameter must give the same answer.
        let validWithoutError = string.withCString { validate($0, nil) } != 0
        precondition(valid == validWithoutError)
        return valid
    }
}

/// GLib's GDBusMessage, through the C shims in Tests/CGLibOracle/CGLibOracle.h.
enum GLibOracle {
    /// GLib parses a whole message that we produced and prints its body as GVariant text.
    static func printBody(ofMessage bytes: [UInt8]) throws -> (signature: String, body: String) {
        var signature: UnsafeMutablePointer<CChar>?
        var error: UnsafeMutablePointer<CChar>?
        let text = bytes.withUnsafeBufferPointer { buffer in
            oracle_print_body(buffer.baseAddress, buffer.count, &signature, &error)
        }
        defer {
            oracle_free(text)
            oracle_free(signature)
            oracle_free(error)
        }
        guard let text, let signature else {
            throw OracleFailure(message: error.map { String(cString: $0) } ?? "GLib failed without a message")
        }
        return (String(cString: signature), String(cString: text))
    }

    /// GLib parses GVariant text (a tuple) and writes a whole method-call message carrying it.
    static func message(withBody text: String, bigEndian: Bool = false) throws -> [UInt8] {
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        let blob = oracle_blob_from_text(text, bigEndian ? 1 : 0, &length, &error)
        defer {
            oracle_free(blob)
            oracle_free(error)
        }
        guard let blob else {
            throw OracleFailure(message: error.map { String(cString: $0) } ?? "GLib failed without a message")
        }
        return Array(UnsafeBufferPointer(start: blob, count: length))
    }
}

struct OracleFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// SplitMix64: a tiny deterministic generator, so that every run checks the same strings and a
/// failure can be reproduced from its printed input.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every string over `alphabet` of length 0 through `maximumLength`.
func allStrings(over alphabet: [Character], upTo maximumLength: Int) -> [String] {
    var result = [""]
    var previous = [""]
    for _ in 0..<maximumLength {
        previous = previous.flatMap { prefix in alphabet.map { prefix + String($0) } }
        result += previous
    }
    return result
}

/// `count` random strings over `alphabet`, with lengths in `lengths`, from a fixed seed.
func randomStrings(over alphabet: [Character], lengths: ClosedRange<Int>, count: Int, seed: UInt64) -> [String] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        let length = Int.random(in: lengths, using: &generator)
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
