internal import CDBus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Connection set-up with a deadline: the address, the socket, the authentication handshake and
/// the bus's `Hello`, driven by us on the new I/O thread rather than by libdbus's blocking
/// `dbus_bus_get_private` / `dbus_bus_register`, which wait for ever on a peer that accepts the
/// connection and says nothing (docs/decisions/0004-in-doubt-calls.md).
extension LibDBusTransport {
    enum Target: Sendable {
        case system, session
        case address(String, register: Bool)
    }

    /// Where to connect, resolved from a ``Target`` and the environment.
    struct Endpoint: Sendable, Equatable {
        var address: String
        /// How errors name it: "the system bus at unix:path=...".
        var label: String
        /// Whether to send the bus's `Hello` (false for a peer-to-peer connection).
        var register: Bool
    }

    /// libdbus's compiled-in system bus address (`DBUS_SYSTEM_BUS_DEFAULT_ADDRESS`), used when
    /// `DBUS_SYSTEM_BUS_ADDRESS` is unset or empty, as `dbus_bus_get` does.
    static let defaultSystemBusAddress = "unix:path=/var/run/dbus/system_bus_socket"

    /// The transports of a system bus address that are sockets (and so run nothing).
    static let socketTransports: Set<String> = ["unix", "tcp", "nonce-tcp"]

    /// Resolves `target` as libdbus would, and refuses a system bus address from the
    /// environment whose transport is not a socket unless `options` allow it.
    static func endpoint(
        for target: Target, options: DBusConnection.Options,
        environment: (String) -> String? = LibDBusTransport.environmentValue
    ) throws(DBusError) -> Endpoint {
        switch target {
        case .system:
            let fromEnvironment = environment("DBUS_SYSTEM_BUS_ADDRESS")
            let address = fromEnvironment ?? defaultSystemBusAddress
            if fromEnvironment != nil && !options.allowsNonSocketSystemBus {
                try requireSocketTransports(address, variable: "DBUS_SYSTEM_BUS_ADDRESS")
            }
            return Endpoint(address: address, label: "the system bus at \(address)", register: true)
        case .session:
            // libdbus's order: the variable, then $XDG_RUNTIME_DIR/bus, then autolaunch.
            var address = environment("DBUS_SESSION_BUS_ADDRESS")
            if address == nil, let runtime = environment("XDG_RUNTIME_DIR") {
                let path = runtime + "/bus"
                var info = stat()
                if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK, let escaped = dbus_address_escape_value(path) {
                    address = "unix:path=" + String(cString: escaped)
                    dbus_free(escaped)
                }
            }
            let resolved = address ?? "autolaunch:"
            return Endpoint(address: resolved, label: "the session bus at \(resolved)", register: true)
        case .address(let address, let register):
            return Endpoint(address: address, label: register ? "the bus at \(address)" : "the peer at \(address)",
                            register: register)
        }
    }

    /// A variable of the process environment; nil when unset or empty.
    static func environmentValue(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// Throws ``DBusError/Code/badAddress`` unless every entry of `address` uses a socket
    /// transport (`unix:`, `tcp:`, `nonce-tcp:`). `unixexec:` would run a program named by the
    /// environment, `autolaunch:` would start a bus: neither is what a system bus is.
    static func requireSocketTransports(_ address: String, variable: String) throws(DBusError) {
        var entries: UnsafeMutablePointer<OpaquePointer?>?
        var count: Int32 = 0
        _ = try withLibDBusError("connect: \(variable)=\(address) is not a valid address") { error -> Bool? in
            address.withCString { dbus_parse_address($0, &entries, &count, error) } != 0 ? true : nil
        }
        defer { dbus_address_entries_free(entries) }
        for index in 0..<Int(count) {
            let method = entries?[index].flatMap { dbus_address_entry_get_method($0) }.map { String(cString: $0) } ?? ""
            guard socketTransports.contains(method) else {
                throw DBusError(
                    .badAddress,
                    "the system bus address \(address) (from \(variable)) uses the \(method): transport, which is not a socket; refused",
                    hint: "point \(variable) at the bus's socket (unix:path=/run/dbus/system_bus_socket), or pass DBusConnection.Options(allowsNonSocketSystemBus: true) if this transport is intended")
            }
        }
    }

    /// Opens, authenticates and (for a bus) registers a private connection on a new I/O thread,
    /// within `options.connectTimeout`.
    ///
    /// The handshake runs on that thread, never on a thread of Swift's cooperative pool, under
    /// the deadline. libdbus still blocks in a few places that no deadline of ours reaches (a
    /// TCP connect or name lookup, a `unix:` socket whose listen backlog is full): a backstop
    /// timer then fails the attempt at the deadline anyway, and the thread closes the
    /// connection whenever libdbus returns.
    static func open(_ target: Target, options: DBusConnection.Options) async throws -> LibDBusTransport {
        try options.validate()
        let endpoint = try endpoint(for: target, options: options)
        let deadline = ContinuousClock.now.advanced(by: options.connectTimeout)
        let attempt = ConnectAttempt()
        return try await withThrowingTaskGroup(of: LibDBusTransport.self) { group in
            group.addTask { try await start(endpoint, options: options, deadline: deadline, attempt: attempt) }
            group.addTask {
                // Later than the thread's own deadline, whose error says which step was stuck.
                // Its error wins the group; cancelling the other child then abandons the attempt.
                try await Task.sleep(until: deadline.advanced(by: .milliseconds(250)), clock: .continuous)
                throw DBusError(
                    .timeout, "connecting to \(endpoint.label): no answer within \(options.connectTimeout) (the connection did not open, or its handshake did not finish)",
                    hint: "something at that address does not accept connections, or does not answer as a D-Bus bus would, in time; check the address and that the bus daemon is not stuck")
            }
            do {
                guard let transport = try await group.next() else { throw CancellationError() }
                group.cancelAll()
                return transport
            } catch {
                // The backstop fired (or the caller was cancelled) just as the attempt succeeded:
                // nobody will use that connection, so it is closed rather than left running.
                group.cancelAll()
                if let late = try? await group.next() { late.close() }
                throw error
            }
        }
    }

    private static func start(
        _ endpoint: Endpoint, options: DBusConnection.Options, deadline: ContinuousClock.Instant, attempt: ConnectAttempt
    ) async throws -> LibDBusTransport {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LibDBusTransport, any Error>) in
                guard attempt.begin(continuation) else { return }
                do {
                    try DetachedThread.start(name: "DBus I/O") {
                        let transport: LibDBusTransport
                        do {
                            transport = try connect(endpoint, options: options, deadline: deadline, attempt: attempt)
                        } catch {
                            attempt.finish(.failure(error))
                            return
                        }
                        guard attempt.finish(.success(transport)) else {
                            // The caller gave up (timeout or cancellation): nobody will use it.
                            transport.shutDown(DBusError(.disconnected, "the connection attempt to \(endpoint.label) was abandoned"))
                            return
                        }
                        transport.run()
                    }
                } catch {
                    attempt.finish(.failure(error))
                }
            }
        } onCancel: {
            attempt.abandon()
        }
    }

    /// Runs on the new I/O thread: the socket, the handshake, `Hello`, the wake-up pipe.
    private static func connect(
        _ endpoint: Endpoint, options: DBusConnection.Options, deadline: ContinuousClock.Instant, attempt: ConnectAttempt
    ) throws(DBusError) -> LibDBusTransport {
        _ = dbus_threads_init_default()
        // Opens the socket only: libdbus authenticates lazily, when the connection does I/O.
        let raw = try withLibDBusError("connect to \(endpoint.label)") { error in
            endpoint.address.withCString { dbus_connection_open_private($0, error) }
        }
        // libdbus's default for bus connections is to call _exit() when the bus goes away.
        // A library must report that as an error instead.
        dbus_connection_set_exit_on_disconnect(raw, 0)
        do {
            let handshake = Handshake(connection: raw, endpoint: endpoint, timeout: options.connectTimeout,
                                      deadline: deadline, attempt: attempt)
            try handshake.authenticate()
            let uniqueName = endpoint.register ? try handshake.hello() : nil
            let wakeFDs = try makeWakePipe()
            return LibDBusTransport(connection: raw, wakeFDs: wakeFDs, label: endpoint.label, uniqueName: uniqueName,
                                    options: options)
        } catch {
            dbus_connection_close(raw)
            dbus_connection_unref(raw)
            throw error
        }
    }

    private static func makeWakePipe() throws(DBusError) -> (Int32, Int32) {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw DBusError(.noMemory, "cannot create the wake-up pipe: errno \(errno)")
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        return (pipeFDs[0], pipeFDs[1])
    }
}

/// The authentication handshake and `Hello` of one new connection, pumped with
/// `dbus_connection_read_write` under a deadline.
private struct Handshake {
    let connection: OpaquePointer
    let endpoint: LibDBusTransport.Endpoint
    let timeout: Duration
    let deadline: ContinuousClock.Instant
    let attempt: ConnectAttempt

    /// Pumps libdbus's I/O until `done` says so, the peer closes, or the deadline passes.
    func pump(_ step: String, until done: () throws(DBusError) -> Bool) throws(DBusError) {
        while true {
            if try done() { return }
            guard dbus_connection_get_is_connected(connection) != 0 else {
                throw closed(step)
            }
            // The caller gave up: stop, so that the connection is closed now rather than at the deadline.
            if attempt.isAbandoned { throw timedOut(step) }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw timedOut(step) }
            let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1
            // At most 100 ms at a time, to notice an abandoned attempt.
            _ = dbus_connection_read_write(connection, Int32(min(ms, 100)))
        }
    }

    /// The SASL exchange (libdbus's client side: EXTERNAL, then its other mechanisms).
    func authenticate() throws(DBusError) {
        try pump("authenticating") { dbus_connection_get_is_authenticated(connection) != 0 }
    }

    /// Sends `org.freedesktop.DBus.Hello` and waits for the unique name it returns; records it
    /// in libdbus (`dbus_bus_set_unique_name`), as `dbus_bus_register` would.
    func hello() throws(DBusError) -> String {
        let hello = try LibDBusMessage.methodCall(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                                  member: "Hello")
        var serial: UInt32 = 0
        guard dbus_connection_send(connection, hello.raw, &serial) != 0 else {
            throw DBusError(.noMemory, "connecting to \(endpoint.label): cannot queue Hello")
        }
        var reply: LibDBusMessage?
        try pump("waiting for the reply to Hello") {
            while reply == nil, let raw = dbus_connection_pop_message(connection) {
                let message = LibDBusMessage(taking: raw)
                // Nothing else is expected before the reply, and nothing can be subscribed yet.
                if message.kind == .methodReturn || message.kind == .error, message.replySerial == serial {
                    reply = message
                }
            }
            return reply != nil
        }
        guard let reply else { throw closed("waiting for the reply to Hello") }
        if reply.kind == .error {
            var text = ""
            if let body = try? reply.body(), case .string(let first)? = body.first { text = first }
            var error = DBusError.remote(name: reply.errorName ?? "org.freedesktop.DBus.Error.Failed",
                                         message: "registering on \(endpoint.label) (Hello): \(text)")
            error.outcomeUnknown = false  // the connection is closed with it: nothing stays registered
            throw error
        }
        guard case .string(let name)? = try reply.body().first else {
            throw DBusError(.typeMismatch, "connecting to \(endpoint.label): Hello returned no unique name")
        }
        guard dbus_bus_set_unique_name(connection, name) != 0 else {
            throw DBusError(.noMemory, "connecting to \(endpoint.label): cannot record the unique name")
        }
        return name
    }

    private func timedOut(_ step: String) -> DBusError {
        DBusError(
            .timeout, "connecting to \(endpoint.label): no answer within \(timeout) while \(step)",
            hint: "something accepts connections there but does not answer as a D-Bus bus would; check the address (DBUS_SYSTEM_BUS_ADDRESS / DBUS_SESSION_BUS_ADDRESS) and that the bus daemon is not stuck")
    }

    private func closed(_ step: String) -> DBusError {
        if step == "authenticating" {
            return DBusError(
                .authFailed, "connecting to \(endpoint.label): the peer closed the connection while authenticating",
                hint: "the address may not be a D-Bus bus, or the bus does not accept this user")
        }
        return DBusError(.disconnected, "connecting to \(endpoint.label): the connection closed while \(step)",
                         hint: "the bus refused this connection; check its logs and limits (max_connections_per_user)")
    }
}

/// One connection attempt, shared by the caller (waiting), its backstop timer and the I/O
/// thread: the caller is resumed exactly once, and the thread learns when nobody waits any more.
final class ConnectAttempt: Sendable {
    typealias Continuation = CheckedContinuation<LibDBusTransport, any Error>
    private enum Stage {
        case idle
        case waiting(Continuation)
        case done
    }
    private let stage = Mutex(Stage.idle)
    private let abandoned = Atomic(false)

    var isAbandoned: Bool { abandoned.load(ordering: .relaxed) }

    /// Records the caller's continuation; false (and the caller resumed) if it already gave up.
    func begin(_ continuation: Continuation) -> Bool {
        let accepted = stage.withLock { stage -> Bool in
            guard case .idle = stage else { return false }
            stage = .waiting(continuation)
            return true
        }
        if !accepted { continuation.resume(throwing: CancellationError()) }
        return accepted
    }

    /// Resumes the caller with `result`; false if the caller had given up (a transport in
    /// `result` is then the thread's to close).
    @discardableResult
    func finish(_ result: Result<LibDBusTransport, any Error>) -> Bool {
        let continuation = stage.withLock { stage -> Continuation? in
            guard case .waiting(let continuation) = stage else { return nil }
            stage = .done
            return continuation
        }
        guard let continuation else { return false }
        continuation.resume(with: result)
        return true
    }

    /// The caller stopped waiting (cancelled, or its backstop fired).
    func abandon() {
        abandoned.store(true, ordering: .relaxed)
        let continuation = stage.withLock { stage -> Continuation? in
            defer { stage = .done }
            if case .waiting(let continuation) = stage { return continuation }
            return nil
        }
        continuation?.resume(throwing: CancellationError())
    }
}
