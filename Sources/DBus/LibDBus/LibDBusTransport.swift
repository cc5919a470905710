internal import CDBus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Owns one private libdbus connection and the thread that drives it.
///
/// Threading model: libdbus is used from exactly one thread, this transport's I/O thread,
/// which polls the connection's socket and an eventfd. Swift tasks never block: they hand
/// messages over through a mutex-protected queue, wake the I/O thread through the eventfd and
/// suspend on a continuation that the I/O thread resumes when the reply, an error, a timeout or
/// a disconnection arrives. Messages are built and decoded on the callers' own threads; only
/// sending, receiving and dispatching happen on the I/O thread. Because sends are only queued,
/// any number of calls can be in flight at once and they are pipelined on the socket.
final class LibDBusTransport: @unchecked Sendable {
    typealias ReplyContinuation = CheckedContinuation<LibDBusMessage, any Error>
    typealias SignalContinuation = AsyncThrowingStream<DBusSignal, any Error>.Continuation

    enum Command {
        case call(LibDBusMessage, id: UInt64, deadline: ContinuousClock.Instant?)
        case send(LibDBusMessage)
        case close
    }

    struct Subscriber {
        var rule: DBusMatchRule
        /// nil for a lease (``DBusMatchLease``): it keeps the sender's owner tracked and
        /// receives nothing.
        var continuation: SignalContinuation?
    }

    struct State {
        var commands: [Command] = []
        var pending: [UInt64: ReplyContinuation] = [:]
        var subscribers: [UInt64: Subscriber] = [:]
        /// Current owners of the well-known names that subscriptions filter on.
        var owners: [String: String] = [:]
        var closedError: DBusError?
        var nextID: UInt64 = 1
        var uniqueName: String?
    }

    let state = Mutex(State())
    /// A self-pipe: writing a byte to `wakeWriteFD` wakes the I/O thread's poll.
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    // Touched only on the I/O thread once it runs.
    private var connection: OpaquePointer?
    private var serialToID: [UInt32: UInt64] = [:]
    private var deadlines: [UInt64: ContinuousClock.Instant] = [:]
    private var earliestDeadline: ContinuousClock.Instant?
    let label: String
    let canPassUnixFDs: Bool
    /// The most calls that were on the wire at once (sent, reply not yet received): the
    /// evidence, for tests, that concurrent calls are pipelined rather than serialised.
    let maxCallsOnWire = Atomic<Int>(0)

    private init(connection: OpaquePointer, wakeFDs: (Int32, Int32), label: String) {
        self.connection = connection
        self.wakeFD = wakeFDs.0
        self.wakeWriteFD = wakeFDs.1
        self.label = label
        self.canPassUnixFDs = dbus_connection_can_send_type(connection, Int32(UInt8(ascii: "h"))) != 0
    }

    enum Target: Sendable {
        case system, session
        case address(String, register: Bool)
    }

    /// Opens and authenticates a private connection on a new I/O thread.
    ///
    /// The blocking parts of libdbus's connection set-up (connect, authenticate, `Hello`) run on
    /// that thread, never on a thread of Swift's cooperative pool.
    static func open(_ target: Target) async throws -> LibDBusTransport {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LibDBusTransport, any Error>) in
            do {
                try DetachedThread.start(name: "DBus I/O") {
                    let transport: LibDBusTransport
                    do {
                        transport = try connect(target)
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    continuation.resume(returning: transport)
                    transport.run()
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    private static func connect(_ target: Target) throws(DBusError) -> LibDBusTransport {
        _ = dbus_threads_init_default()
        let raw: OpaquePointer
        let label: String
        switch target {
        case .system, .session:
            let type = target.isSystem ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION
            label = target.isSystem ? "system bus" : "session bus"
            // dbus_bus_get_private honours DBUS_SYSTEM_BUS_ADDRESS / DBUS_SESSION_BUS_ADDRESS as
            // libdbus does everywhere else, connects, authenticates and sends Hello.
            raw = try withLibDBusError("connect to the \(label)") { dbus_bus_get_private(type, $0) }
        case .address(let address, let register):
            label = address
            raw = try withLibDBusError("connect to \(address)") { error in
                address.withCString { dbus_connection_open_private($0, error) }
            }
            if register {
                do {
                    _ = try withLibDBusError("register on the bus at \(address)") { dbus_bus_register(raw, $0) != 0 ? true : nil }
                } catch {
                    dbus_connection_close(raw)
                    dbus_connection_unref(raw)
                    throw error
                }
            }
        }
        // libdbus's default for bus connections is to call _exit() when the bus goes away.
        // A library must report that as an error instead.
        dbus_connection_set_exit_on_disconnect(raw, 0)
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            dbus_connection_close(raw)
            dbus_connection_unref(raw)
            throw DBusError(.noMemory, "cannot create the wake-up pipe: errno \(errno)")
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        let transport = LibDBusTransport(connection: raw, wakeFDs: (pipeFDs[0], pipeFDs[1]), label: label)
        let unique = dbus_bus_get_unique_name(raw).map { String(cString: $0) }
        transport.state.withLock { $0.uniqueName = unique }
        return transport
    }

    var uniqueName: String? { state.withLock { $0.uniqueName } }

    // MARK: - Called from any thread

    private func wake() {
        // A full pipe already means "wake up": EAGAIN is fine.
        var one: UInt8 = 1
        _ = write(wakeWriteFD, &one, 1)
    }

    /// Sends a method call and suspends until its reply (a method return or an error message).
    func call(_ message: LibDBusMessage, timeout: Duration?) async throws -> LibDBusMessage {
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        let id = state.withLock { s -> UInt64 in
            defer { s.nextID += 1 }
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: ReplyContinuation) in
                let refusal: (any Error)? = state.withLock { s in
                    if let closed = s.closedError { return closed }
                    // Checked under the lock: a cancellation handler that ran before this point
                    // found nothing to cancel, so this is where such a call must stop.
                    if Task.isCancelled { return CancellationError() }
                    s.pending[id] = continuation
                    s.commands.append(.call(message, id: id, deadline: deadline))
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                } else {
                    wake()
                }
            }
        } onCancel: {
            // The reply, if it ever comes, finds no continuation and is dropped.
            let continuation = state.withLock { $0.pending.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Queues a message that expects no reply (a signal, or a call with NO_REPLY_EXPECTED).
    func send(_ message: LibDBusMessage) throws(DBusError) {
        let refusal: DBusError? = state.withLock { s in
            if let closed = s.closedError { return closed }
            s.commands.append(.send(message))
            return nil
        }
        if let refusal { throw refusal }
        wake()
    }

    /// Registers a signal subscriber before its match rule is sent, so no signal is missed.
    func addSubscriber(_ rule: DBusMatchRule, _ continuation: SignalContinuation?) throws(DBusError) -> UInt64 {
        let result: Result<UInt64, DBusError> = state.withLock { s in
            if let closed = s.closedError { return .failure(closed) }
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = Subscriber(rule: rule, continuation: continuation)
            return .success(id)
        }
        return try result.get()
    }

    func removeSubscriber(_ id: UInt64) {
        state.withLock { s in
            guard let removed = s.subscribers.removeValue(forKey: id), let name = removed.rule.sender?.rawValue else { return }
            // The owner of a well-known name is only tracked while a subscription filters on it
            // (its NameOwnerChanged match keeps the entry current). Once none does, the entry
            // would go stale the moment the owner changes (a service restart), and a later
            // subscription would drop every signal of the new owner: forget it instead.
            if !s.subscribers.values.contains(where: { $0.rule.sender?.rawValue == name }) {
                s.owners[name] = nil
            }
        }
    }

    /// The owner of the well-known `name` as tracked for subscriptions, if known.
    func trackedOwner(of name: String) -> String? {
        state.withLock { $0.owners[name] }
    }

    func setOwnerIfUnknown(_ name: String, owner: String) {
        state.withLock { s in
            if s.owners[name] == nil { s.owners[name] = owner }
        }
    }

    /// Closes the connection: pending calls fail with ``DBusError/Code/disconnected`` and signal
    /// sequences end with that error. Safe to call more than once and from any thread.
    func close() {
        let accepted: Bool = state.withLock { s in
            if s.closedError != nil { return false }
            s.commands.append(.close)
            return true
        }
        if accepted { wake() }
    }

    var isClosed: Bool { state.withLock { $0.closedError != nil } }

    // MARK: - The I/O thread

    private func run() {
        guard let connection else { return }
        var fd: Int32 = -1
        _ = dbus_connection_get_unix_fd(connection, &fd)
        var reason = DBusError(.disconnected, "the connection to the \(label) was closed")
        loop: while true {
            // 1. Hand queued work to libdbus.
            let commands = state.withLock { s -> [Command] in
                let taken = s.commands
                s.commands.removeAll(keepingCapacity: true)
                return taken
            }
            for command in commands {
                switch command {
                case .close:
                    reason = DBusError(.disconnected, "the connection was closed by the application")
                    break loop
                case .send(let message):
                    guard dbus_connection_send(connection, message.raw, nil) != 0 else {
                        continue
                    }
                case .call(let message, let id, let deadline):
                    var serial: UInt32 = 0
                    guard dbus_connection_send(connection, message.raw, &serial) != 0 else {
                        complete(id, with: .failure(DBusError(.noMemory, "cannot queue the message")))
                        continue
                    }
                    serialToID[serial] = id
                    if serialToID.count > maxCallsOnWire.load(ordering: .relaxed) {
                        maxCallsOnWire.store(serialToID.count, ordering: .relaxed)
                    }
                    if let deadline {
                        deadlines[id] = deadline
                        if earliestDeadline.map({ deadline < $0 }) ?? true { earliestDeadline = deadline }
                    }
                }
            }
            // 2. Write what the socket takes, read what it has, then dispatch every whole message.
            let alive = dbus_connection_read_write(connection, 0) != 0
            while let raw = dbus_connection_pop_message(connection) {
                handle(LibDBusMessage(taking: raw))
            }
            if !alive || dbus_connection_get_is_connected(connection) == 0 {
                reason = DBusError(.disconnected, "the \(label) went away (connection lost)",
                                   hint: "the bus daemon stopped or closed the connection; reconnect once it is back")
                break loop
            }
            // 3. Expire calls whose deadline passed.
            let now = ContinuousClock.now
            if let earliest = earliestDeadline, earliest <= now { expireDeadlines(now) }
            // 4. Sleep until the socket is readable (or writable, when output is queued),
            //    a command arrives, or the next deadline.
            var events = Int16(POLLIN)
            if dbus_connection_has_messages_to_send(connection) != 0 { events |= Int16(POLLOUT) }
            var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            if dbus_connection_get_dispatch_status(connection) == DBUS_DISPATCH_DATA_REMAINS { continue }
            var timeout: Int32 = -1
            if let earliest = earliestDeadline {
                let remaining = now.duration(to: earliest)
                let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
                timeout = Int32(clamping: max(0, ms + 1))
            }
            let ready = poll(&fds, 2, timeout)
            if ready < 0 && errno != EINTR {
                reason = DBusError(.disconnected, "poll failed: errno \(errno)")
                break loop
            }
            if fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while read(wakeFD, &drain, 256) == 256 {}
            }
        }
        shutDown(reason)
    }

    private func expireDeadlines(_ now: ContinuousClock.Instant) {
        var next: ContinuousClock.Instant?
        for (id, deadline) in deadlines {
            if deadline <= now {
                deadlines[id] = nil
                complete(id, with: .failure(DBusError(
                    .timeout, "no reply within the call's timeout",
                    hint: "the peer is busy or hung; raise the timeout if the operation is legitimately slow")))
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        earliestDeadline = next
        // Serial entries of expired calls are dropped lazily when (if) their replies arrive.
    }

    private func complete(_ id: UInt64, with result: Result<LibDBusMessage, DBusError>) {
        deadlines[id] = nil
        guard let continuation = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        continuation.resume(with: result.mapError { $0 as any Error })
    }

    private func handle(_ message: LibDBusMessage) {
        switch message.kind {
        case .methodReturn, .error:
            guard let id = serialToID.removeValue(forKey: message.replySerial) else { return }
            complete(id, with: .success(message))
        case .signal:
            dispatchSignal(message)
        case .methodCall:
            answerIncomingCall(message)
        case .other:
            break
        }
    }

    private func dispatchSignal(_ message: LibDBusMessage) {
        guard let pathText = message.path, let interfaceText = message.interface, let memberText = message.member else { return }
        if interfaceText == "org.freedesktop.DBus.Local" { return }  // Disconnected: seen via get_is_connected
        let path = ObjectPath(unchecked: pathText)
        let interface = InterfaceName(unchecked: interfaceText)
        let member = MemberName(unchecked: memberText)
        let sender = message.sender
        let isOwnerChange = sender == "org.freedesktop.DBus" && interfaceText == "org.freedesktop.DBus"
            && memberText == "NameOwnerChanged"
        // Decode only when someone may want the signal.
        let anyone = isOwnerChange || state.withLock { s in
            s.subscribers.values.contains { sub in
                sub.continuation != nil && (sub.rule.path.map { $0 == path } ?? true) && (sub.rule.interface.map { $0 == interface } ?? true)
                    && (sub.rule.member.map { $0 == member } ?? true)
            }
        }
        guard anyone, let body = try? message.body() else { return }
        let signal = DBusSignal(sender: sender, path: path, interface: interface, member: member, body: body)

        var vanished: [SignalContinuation] = []
        var deliver: [(UInt64, SignalContinuation)] = []
        state.withLock { s in
            if isOwnerChange, body.count == 3, case .string(let name) = body[0], case .string(let old) = body[1],
                case .string(let new) = body[2]
            {
                if new.isEmpty { s.owners[name] = nil } else if !name.hasPrefix(":") { s.owners[name] = new }
                if !old.isEmpty {
                    // The peer behind a sender-filtered subscription left the bus: end those sequences.
                    for (id, sub) in s.subscribers {
                        guard let wanted = sub.rule.sender?.rawValue else { continue }
                        // A lease outlives its sender: the rule still matches the next owner.
                        guard let continuation = sub.continuation else { continue }
                        if wanted == name && (new.isEmpty || !name.hasPrefix(":")) && new != old {
                            if wanted.hasPrefix(":") || new.isEmpty {
                                vanished.append(continuation)
                                s.subscribers[id] = nil
                            }
                        }
                    }
                }
            }
            for (id, sub) in s.subscribers where sub.rule.matchesIgnoringSender(signal) {
                guard let continuation = sub.continuation else { continue }
                if let wanted = sub.rule.sender?.rawValue {
                    if wanted.hasPrefix(":") || wanted == "org.freedesktop.DBus" {
                        guard wanted == sender else { continue }
                    } else {
                        guard let owner = s.owners[wanted], owner == sender else { continue }
                    }
                }
                deliver.append((id, continuation))
            }
        }
        for (id, continuation) in deliver {
            if case .dropped = continuation.yield(signal) {
                removeSubscriber(id)
                continuation.finish(throwing: DBusError(
                    .bufferOverflow, "the signal sequence's buffer is full: its consumer fell behind",
                    hint: "consume signals faster, or create the sequence with a larger buffer"))
            }
        }
        for continuation in vanished {
            continuation.finish(throwing: DBusError(
                .peerVanished, "the sender of these signals left the bus",
                hint: "subscribe again once the service is back"))
        }
    }

    private func answerIncomingCall(_ call: LibDBusMessage) {
        guard let connection, !call.noReplyExpected else { return }
        let reply: LibDBusMessage?
        if call.interface == "org.freedesktop.DBus.Peer" && call.member == "Ping" {
            reply = try? LibDBusMessage.methodReturn(to: call)
        } else if call.interface == "org.freedesktop.DBus.Peer" && call.member == "GetMachineId" {
            reply = try? LibDBusMessage.methodReturn(to: call)
            if let reply, let id = dbus_try_get_local_machine_id(nil) {
                try? reply.append([.string(String(cString: id))])
                dbus_free(id)
            }
        } else {
            reply = try? LibDBusMessage.errorReply(
                to: call, name: "org.freedesktop.DBus.Error.UnknownMethod",
                message: "this connection is a client and exports no objects")
        }
        if let reply { dbus_connection_send(connection, reply.raw, nil) }
    }

    private func shutDown(_ reason: DBusError) {
        let (pending, subscribers) = state.withLock { s in
            s.closedError = reason
            s.commands.removeAll()
            defer {
                s.pending.removeAll()
                s.subscribers.removeAll()
            }
            return (Array(s.pending.values), Array(s.subscribers.values))
        }
        for continuation in pending { continuation.resume(throwing: reason) }
        for subscriber in subscribers { subscriber.continuation?.finish(throwing: reason) }
        if let connection {
            dbus_connection_close(connection)
            dbus_connection_unref(connection)
        }
        connection = nil
        serialToID.removeAll()
        deadlines.removeAll()
        Glibc.close(wakeFD)
        Glibc.close(wakeWriteFD)
    }
}

extension LibDBusTransport.Target {
    var isSystem: Bool {
        if case .system = self { return true }
        return false
    }
}
