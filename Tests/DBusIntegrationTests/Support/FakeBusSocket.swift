import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A listening Unix socket in a temporary directory that misbehaves as a bus, to test
/// connection set-up against peers that no real bus imitates: one that stays silent, one that
/// speaks something other than D-Bus, one that authenticates and then never answers `Hello`.
final class FakeBusSocket: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Listens and never accepts: the client's connect succeeds (the kernel queues it) and
        /// then nothing ever answers.
        case silent
        /// Accepts and answers with bytes that are not D-Bus (an HTTP reply, then binary), and
        /// keeps the connection open.
        case garbage
        /// Accepts, answers the SASL exchange as a bus would (`OK`, `AGREE_UNIX_FD`), then stays
        /// silent: `Hello` is never answered.
        case authenticatesThenSilent
    }

    let directory: String
    let path: String
    var address: String { "unix:path=\(path)" }
    private let listener: Int32
    private let stopped = NSLock()
    private var isStopped = false
    private var accepted: [Int32] = []

    init(_ behaviour: Behaviour) throws {
        var template = Array("/tmp/dbus-fake-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        path = directory + "/socket"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        if behaviour != .silent {
            let thread = Thread { [self] in serve(behaviour) }
            thread.start()
        }
    }

    deinit { stop() }

    func stop() {
        let fds: [Int32]? = stopped.withLock {
            if isStopped { return nil }
            isStopped = true
            return accepted + [listener]
        }
        guard let fds else { return }
        for fd in fds {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func serve(_ behaviour: Behaviour) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }  // the listener was closed
            let keep = stopped.withLock { () -> Bool in
                if isStopped { return false }
                accepted.append(client)
                return true
            }
            guard keep else {
                close(client)
                return
            }
            let thread = Thread { [self] in converse(client, behaviour) }
            thread.start()
        }
    }

    private func converse(_ client: Int32, _ behaviour: Behaviour) {
        switch behaviour {
        case .silent:
            return
        case .garbage:
            var reply = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8)
            reply += (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
            _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        case .authenticatesThenSilent:
            var pending = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = read(client, &buffer, buffer.count)
                guard count > 0 else { return }
                pending += buffer[0..<count]
                while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<end], as: UTF8.self)
                        .trimmingCharacters(in: CharacterSet(charactersIn: "\0\r"))
                    pending.removeSubrange(...end)
                    let answer: String?
                    if line.hasPrefix("AUTH") {
                        answer = "OK 0123456789abcdef0123456789abcdef\r\n"
                    } else if line.hasPrefix("NEGOTIATE_UNIX_FD") {
                        answer = "AGREE_UNIX_FD\r\n"
                    } else {
                        answer = nil  // BEGIN, then the Hello message: never answered
                    }
                    if let answer {
                        _ = Array(answer.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                }
            }
        }
    }
}
