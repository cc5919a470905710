import DBus
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A check that the host is still reachable after a change: run after verification, before
/// commit. A probe that fails (or runs out of its time budget) rolls the transaction back.
///
/// Each probe's ``budget`` is added to the checkpoint's rollback timeout, so that a slow probe
/// cannot outlive the dead-man switch (kubernetes-nmstate hit exactly that).
///
/// Probes run in the network namespace of the calling process: they test what the caller can
/// reach, which is the point when the caller is an SSH session on the host being changed.
public struct NMProbe: Sendable, CustomStringConvertible {
    /// What is probed, for progress output and errors ("gateway 192.168.1.1 answers ICMP").
    public var name: String
    /// How long the probe may take, retries included.
    public var budget: Duration
    let body: @Sendable (_ context: NMProbeContext) async throws -> Void

    /// A probe from a closure: it passes by returning, fails by throwing.
    public static func custom(_ name: String, budget: Duration = .seconds(5),
                              _ body: @escaping @Sendable () async throws -> Void) -> NMProbe {
        NMProbe(name: name, budget: budget) { _ in try await body() }
    }

    /// A TCP connection to `host`:`port` succeeds (retried until the budget runs out).
    public static func tcp(host: String, port: UInt16, budget: Duration = .seconds(5)) -> NMProbe {
        NMProbe(name: "TCP connect to \(host):\(port)", budget: budget) { context in
            try await context.retry { try await Blocking.run { try Sockets.connectTCP(host: host, port: port, timeout: 1) } }
        }
    }

    /// `name` resolves through the system resolver.
    public static func resolves(_ name: String, budget: Duration = .seconds(5)) -> NMProbe {
        NMProbe(name: "\(name) resolves", budget: budget) { context in
            try await context.retry { try await Blocking.run { try Sockets.resolve(name) } }
        }
    }

    /// `address` answers an ICMP echo request (needs root or an allowed ping group).
    public static func ping(_ address: IPv4Address, budget: Duration = .seconds(5)) -> NMProbe {
        NMProbe(name: "\(address) answers ICMP echo", budget: budget) { context in
            try await context.retry { try await Blocking.run { try Sockets.ping(address.description, timeout: 0.5) } }
        }
    }

    /// The IPv4 default gateway of the changed configuration answers ICMP echo. The gateway is
    /// the one NetworkManager reports for the activated profiles; no gateway means the probe is
    /// skipped (and says so in the progress).
    public static func gateway(budget: Duration = .seconds(5)) -> NMProbe {
        NMProbe(name: "the default gateway answers ICMP echo", budget: budget) { context in
            guard let gateway = context.gateway else { throw NMProbeSkipped(reason: "no IPv4 gateway is configured") }
            try await context.retry { try await Blocking.run { try Sockets.ping(gateway.description, timeout: 0.5) } }
        }
    }

    public var description: String { name }
}

/// What a probe knows about the applied change.
public struct NMProbeContext: Sendable {
    /// The IPv4 gateway NetworkManager reports for the activated profiles, if any.
    public var gateway: IPv4Address?
    /// When the probe must have passed.
    public var deadline: ContinuousClock.Instant

    /// Runs `attempt` until it succeeds or the deadline passes, 200 ms apart; rethrows the
    /// last failure. (A neighbour lookup lost while a bridge had no carrier is retried by the
    /// kernel only after a second: a single attempt would fail a working change.)
    ///
    /// - Throws: the last failure as ``NMError`` (``NMError/init(wrapping:operation:)``), or
    ///   ``NMError/Code/cancelled`` when the task is cancelled between attempts.
    public func retry(_ attempt: @Sendable () async throws -> Void) async throws(NMError) {
        // An attempt takes up to about a second (connect and ping time out at 0.5-1 s): after
        // a failure, the next one starts only if it can finish before the deadline.
        while true {
            do {
                try await attempt()
                return
            } catch {
                if ContinuousClock.now + .milliseconds(1200) >= deadline { throw NMError(wrapping: error) }
                do { try await Task.sleep(for: .milliseconds(200)) } catch { throw NMError(wrapping: error) }
            }
        }
    }
}

/// Thrown by a probe that does not apply (for example no gateway to ping); it does not fail
/// the transaction.
public struct NMProbeSkipped: Error, Sendable {
    public var reason: String
}

/// Runs blocking system calls on a thread of their own, never on the cooperative pool.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try DetachedThread.start { continuation.resume(with: Result { try body() }) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

enum Sockets {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func resolve(_ name: String) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &result)
        guard status == 0, result != nil else {
            throw Failure(description: "\(name) does not resolve: \(String(cString: gai_strerror(status)))")
        }
        freeaddrinfo(result)
    }

    static func connectTCP(host: String, port: UInt16, timeout: Double) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw Failure(description: "\(host) does not resolve: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), first.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            throw Failure(description: "connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else {
            throw Failure(description: "connect to \(host):\(port) timed out")
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        guard soError == 0 else {
            throw Failure(description: "connect to \(host):\(port): \(String(cString: strerror(soError)))")
        }
    }

    /// One ICMP echo round trip: a raw socket as root, else an unprivileged ICMP datagram socket.
    static func ping(_ address: String, timeout: Double) throws {
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else {
            throw Failure(description: "\(address) is not an IPv4 address")
        }
        var raw = true
        var fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_ICMP))
        if fd < 0 {
            raw = false
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_ICMP))
        }
        guard fd >= 0 else { throw Failure(description: "cannot open an ICMP socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let identifier = UInt16(truncatingIfNeeded: getpid())
        let sequence = UInt16.random(in: 1...UInt16.max)
        var packet: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += Array("swift-networkmanager".utf8)
        let checksum = internetChecksum(packet)
        packet[2] = UInt8(checksum >> 8)
        packet[3] = UInt8(checksum & 0xFF)
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.count else { throw Failure(description: "sending ICMP echo to \(address): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 1500)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&pfd, 1, remaining) == 1 else { break }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            // A raw socket returns the IP header first; a datagram socket only the ICMP message.
            let offset = raw ? Int(buffer[0] & 0x0F) * 4 : 0
            guard count >= offset + 8, buffer[offset] == 0 else { continue }  // echo reply
            let replySequence = UInt16(buffer[offset + 6]) << 8 | UInt16(buffer[offset + 7])
            if replySequence == sequence { return }
        }
        throw Failure(description: "\(address) did not answer ICMP echo within \(timeout) s")
    }

    static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
