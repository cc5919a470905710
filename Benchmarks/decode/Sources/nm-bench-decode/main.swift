// nm-bench-decode: decodes captured NetworkManager replies (Benchmarks/fixtures) in process,
// N times, and prints one JSON line in the same form as Benchmarks/c/decode-bench.c:
//
//   nm-bench-decode ours FILE N       LibDBusMessage.demarshal + body(): the DBus module's decoder
//   nm-bench-decode iterators FILE N  demarshal + bodyUsingIterators(): the module's libdbus-iterator
//                                     walk (its only decoder before 349283f, kept for fds and tests)
//   nm-bench-decode wire FILE N       demarshal + marshal (a copy of the validated bytes) +
//                                     WireDecoder (this package): the experimental decoder
//   nm-bench-decode verify FILE       all three must return equal [DBusValue]
//
// One "decode" is every message in FILE. The tally (values, string bytes) must equal the C
// baselines', which walk the same messages with libdbus and GLib.
@testable import DBus
import Foundation

struct Tally {
    var values = 0
    var stringBytes = 0

    mutating func add(_ value: DBusValue) {
        values += 1
        switch value {
        case .string(let s): stringBytes += s.utf8.count
        case .objectPath(let p): stringBytes += p.rawValue.utf8.count
        case .signature(let g): stringBytes += g.rawValue.utf8.count
        case .array(_, let items): for item in items { add(item) }
        case .dictionary(_, _, let entries):
            for entry in entries {
                add(entry.key)
                add(entry.value)
            }
        case .structure(let fields): for field in fields { add(field) }
        case .variant(let inner): add(inner)
        default: break
        }
    }
}

func messages(in file: String) throws -> [[UInt8]] {
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    var result: [[UInt8]] = []
    var at = 0
    while at < data.count {
        // Total length: 16-byte fixed header + header fields (padded to 8) + body.
        guard data.count - at >= 16 else { throw DBusError(.invalidValue, "\(file): trailing bytes at \(at)") }
        func u32(_ o: Int) -> Int {
            let b = data[(at + o)..<(at + o + 4)].map(UInt32.init)
            let v = data[at] == UInt8(ascii: "l") ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
            return Int(v)
        }
        let length = ((16 + u32(12) + 7) & ~7) + u32(4)
        result.append(Array(data[at..<(at + length)]))
        at += length
    }
    return result
}

func decodeOurs(_ message: [UInt8]) throws -> [DBusValue] {
    try LibDBusMessage.demarshal(message).body()
}

func decodeIterators(_ message: [UInt8]) throws -> [DBusValue] {
    try LibDBusMessage.demarshal(message).bodyUsingIterators()
}

func decodeWire(_ message: [UInt8]) throws -> [DBusValue] {
    let parsed = try LibDBusMessage.demarshal(message)
    let bytes = try parsed.marshal()
    return try bytes.withUnsafeBytes { try WireDecoder.body(of: $0, signature: parsed.signatureString) }
}

func run() throws {
    let arguments = CommandLine.arguments
    guard arguments.count >= 3, ["ours", "iterators", "wire", "verify"].contains(arguments[1]) else {
        FileHandle.standardError.write(Data("usage: nm-bench-decode {ours|iterators|wire} FILE N | verify FILE\n".utf8))
        exit(2)
    }
    let mode = arguments[1]
    let all = try messages(in: arguments[2])
    if mode == "verify" {
        for (index, message) in all.enumerated() {
            let reference = try decodeIterators(message)
            for (name, decode) in [("ours", decodeOurs), ("wire", decodeWire)] {
                let decoded: [DBusValue]
                do {
                    decoded = try decode(message)
                } catch {
                    print("{\"verify\": false, \"decoder\": \"\(name)\", \"message\": \(index), \"error\": \"\(error)\"}")
                    exit(1)
                }
                guard decoded == reference else {
                    print("{\"verify\": false, \"decoder\": \"\(name)\", \"message\": \(index)}")
                    exit(1)
                }
            }
        }
        print("{\"verify\": true, \"messages\": \(all.count)}")
        return
    }
    let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100
    let decode = mode == "ours" ? decodeOurs : mode == "iterators" ? decodeIterators : decodeWire
    var tally = Tally()
    for message in all { for value in try decode(message) { tally.add(value) } }  // warm up + tally
    var times: [Double] = []
    times.reserveCapacity(iterations)
    let clock = ContinuousClock()
    var keep = 0
    for _ in 0..<iterations {
        let start = clock.now
        for message in all { keep &+= try decode(message).count }
        let elapsed = start.duration(to: clock.now)
        times.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
    }
    times.sort()
    let bytes = all.reduce(0) { $0 + $1.count }
    print("""
        {"impl": "\(mode)", "messages": \(all.count), "bytes": \(bytes), "iterations": \(iterations), \
        "median_us": \(String(format: "%.2f", times[iterations / 2])), "min_us": \(String(format: "%.2f", times[0])), \
        "max_us": \(String(format: "%.2f", times[iterations - 1])), "values": \(tally.values), \
        "string_bytes": \(tally.stringBytes), "kept": \(keep)}
        """)
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("nm-bench-decode: \(error)\n".utf8))
    exit(1)
}
