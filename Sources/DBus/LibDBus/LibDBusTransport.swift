internal import CDBus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Owns one private libdbus connection and the thread that drives it.
///
/// Threading model: libdbus is used from exactly one thread, this transport's I/O thread,
/// which polls the connection's socket and a wake-up pipe. Swift tasks never block: they hand
/// messages over through a mutex-protected queue, wake the I/O thread through the pipe and
/// suspend on a continuation that the I/O thread resumes when the reply, an error, a timeout or
/// a disconnection arrives. Messages are built and decoded on the callers' own threads; only
/// sending, receiving and dispatching happen on the I/O thread.
///
/// Calls are pipelined up to a window (``DBusConnection/Options/callWindow``) of calls on the
/// wire; the rest wait in the queue, in order, and go out as replies come back. A call moves
/// from `.queued` to `.onWire` under the mutex at the moment the I/O thread takes it to hand it
/// to libdbus; that is the line between "withdrawn, nothing sent" and "sent, outcome unknown
/// until its reply is read" (docs/decisions/0004-in-doubt-calls.md).
final class LibDBusTransport: @unchecked Sendable {
    typealias ReplyContinuation = CheckedContinuation<LibDBusMessage, any Error>
    typealias SignalContinuation = AsyncThrowingStream<DBusSignal, any Error>.Continuation

    enum Command {
        case call(LibDBusMessage, id: UInt64)
        case send(LibDBusMessage)
    }

    enum CallPhase {
        /// In the command queue: cancelling withdraws it, and nothing is sent.
        case queued
        /// Taken by the I/O thread to be handed to libdbus, or handed: it may reach the peer.
        case onWire
        /// On the wire, and its task was cancelled: waiting out the grace for its reply.
        case cancelled
    }

    struct PendingCall {
        var continuation: ReplyContinuation
        /// Kept to name the call in the errors that end it.
        var message: LibDBusMessage
        var phase: CallPhase
        /// The call's own deadline.
        var deadline: ContinuousClock.Instant?
        /// When the I/O thread gives up on it: the deadline, or, once cancelled on the wire, the
        /// end of the grace if that is earlier.
        var expiry: ContinuousClock.Instant?
    }

    struct Subscriber {
        var rule: DBusMatchRule
        /// nil for a lease (``DBusMatchLease``): it keeps the sender's owner tracked and
        /// receives nothing.
        var continuation: SignalContinuation?
        /// A lease's observer: called on the I/O thread, in the order messages are read, with
        /// each matching signal, before the signal goes to any sequence and before any reply
        /// read after it resumes its caller.
        var observer: (@Sendable (DBusSignal) -> Void)? = nil
    }

    struct State {
        /// Messages to hand to libdbus, in order, from `commandHead` on; taken entries are nil.
        var commands: [Command?] = []
        var commandHead = 0
        /// Every call not yet answered, queued or on the wire. A queued call withdrawn (or expired)
        /// is removed from here and its command is skipped when the I/O thread reaches it.
        var calls: [UInt64: PendingCall] = [:]
        /// No later than the earliest `expiry` among `calls` (it may be earlier: the I/O thread
        /// then finds nothing to expire and recomputes it).
        var earliestExpiry: ContinuousClock.Instant?
        var closeRequested = false
        var subscribers: [UInt64: Subscriber] = [:]
        /// Current owners of the well-known names that subscriptions filter on.
        var owners: [String: String] = [:]
        /// Well-known names whose `NameOwnerChanged` rule is on the bus while their owner is
        /// not known yet: the sender of the next method return from such a name (in the order
        /// the I/O thread reads messages, so after any owner change the rule delivered) is its
        /// owner. Learnt this way instead of asking `GetNameOwner`.
        var ownersToLearn: Set<String> = []
        var closedError: DBusError?
        var nextID: UInt64 = 1
        var uniqueName: String?

        var hasQueuedCommands: Bool { commandHead < commands.count }
    }

    let state = Mutex(State())
    /// A self-pipe: writing a byte to `wakeWriteFD` wakes the I/O thread's poll.
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    // Touched only on the I/O thread once it runs.
    private var connection: OpaquePointer?
    /// The calls on the wire (handed to libdbus, reply not yet received) by serial, and back.
    private var serialToID: [UInt32: UInt64] = [:]
    private var idToSerial: [UInt64: UInt32] = [:]
    let label: String
    let canPassUnixFDs: Bool
    /// The most calls on the wire at once (``DBusConnection/Options/callWindow``).
    let window: Int
    /// ``DBusConnection/Options/cancellationGrace``.
    let cancellationGrace: Duration
    /// The most calls that were on the wire at once (sent, reply not yet received): the
    /// evidence, for tests, that concurrent calls are pipelined rather than serialised, and
    /// that the window holds.
    let maxCallsOnWire = Atomic<Int>(0)

    init(connection: OpaquePointer, wakeFDs: (Int32, Int32), label: String, uniqueName: String?,
         options: DBusConnection.Options)
    {
        self.connection = connection
        self.wakeFD = wakeFDs.0
        self.wakeWriteFD = wakeFDs.1
        self.label = label
        self.window = options.callWindow
        self.cancellationGrace = options.cancellationGrace
        self.canPassUnixFDs = dbus_connection_can_send_type(connection, Int32(UInt8(ascii: "h"))) != 0
        state.withLock { $0.uniqueName = uniqueName }
    }

    var uniqueName: String? { state.withLock { $0.uniqueName } }

    // MARK: - Called from any thread

    private func wake() {
        // A full pipe already means "wake up": EAGAIN is fine.
        var one: UInt8 = 1
        _ = write(wakeWriteFD, &one, 1)
    }

    /// Sends a method call and suspends until its reply (a method return or an error message).
    ///
    /// Cancelling the task withdraws the call if it is still queued (`CancellationError`:
    /// nothing was sent); once it is on the wire, the call keeps waiting for its reply for the
    /// cancellation grace, and ends with ``DBusError/Code/inDoubt`` if none comes.
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
                    s.calls[id] = PendingCall(continuation: continuation, message: message, phase: .queued,
                                              deadline: deadline, expiry: deadline)
                    if let deadline, s.earliestExpiry.map({ deadline < $0 }) ?? true { s.earliestExpiry = deadline }
                    s.commands.append(.call(message, id: id))
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                } else {
                    wake()
                }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// A call's task was cancelled: withdraw the call if it was not sent, else start its grace.
    private func cancel(_ id: UInt64) {
        let now = ContinuousClock.now
        let withdrawn: ReplyContinuation? = state.withLock { s in
            guard var call = s.calls[id] else { return nil }  // answered already, or never queued
            switch call.phase {
            case .queued:
                // Its command stays in the queue and is skipped: it took no slot of the window,
                // so it gives none back.
                s.calls[id] = nil
                return call.continuation
            case .onWire:
                let graceEnd = now.advanced(by: cancellationGrace)
                let expiry = call.deadline.map { min($0, graceEnd) } ?? graceEnd
                call.phase = .cancelled
                call.expiry = expiry
                s.calls[id] = call
                if s.earliestExpiry.map({ expiry < $0 }) ?? true { s.earliestExpiry = expiry }
                return nil
            case .cancelled:
                return nil
            }
        }
        if let withdrawn {
            withdrawn.resume(throwing: CancellationError())
        } else {
            wake()  // the I/O thread's next deadline may now be earlier
        }
    }

    /// Queues a message that expects no reply (a signal, or a call with NO_REPLY_EXPECTED).
    /// It goes out in order with the calls queued before it.
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
    func addSubscriber(_ rule: DBusMatchRule, _ continuation: SignalContinuation?,
                       observer: (@Sendable (DBusSignal) -> Void)? = nil) throws(DBusError) -> UInt64 {
        let result: Result<UInt64, DBusError> = state.withLock { s in
            if let closed = s.closedError { return .failure(closed) }
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = Subscriber(rule: rule, continuation: continuation, observer: observer)
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
                s.ownersToLearn.remove(name)
            }
        }
    }

    /// The owner of the well-known `name` as tracked for subscriptions, if known.
    func trackedOwner(of name: String) -> String? {
        state.withLock { $0.owners[name] }
    }

    /// Learn the owner of `name` from the next method return it sends (see
    /// `State.ownersToLearn`). Only once `name`'s `NameOwnerChanged` rule is on the bus.
    func learnOwnerFromNextReply(_ name: String) {
        state.withLock { s in
            if s.owners[name] == nil { s.ownersToLearn.insert(name) }
        }
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
            if s.closedError != nil || s.closeRequested { return false }
            s.closeRequested = true
            return true
        }
        if accepted { wake() }
    }

    var isClosed: Bool { state.withLock { $0.closedError != nil } }

    // MARK: - The I/O thread

    func run() {
        guard let connection else { return }
        var fd: Int32 = -1
        _ = dbus_connection_get_unix_fd(connection, &fd)
        var reason = DBusError(.disconnected, "the connection to \(label) was closed")
        loop: while true {
            // 1. Hand queued work to libdbus, calls only while the window has room.
            guard let commands = takeCommands() else {
                reason = DBusError(.disconnected, "the connection to \(label) was closed by the application")
                break loop
            }
            for command in commands {
                switch command {
                case .send(let message):
                    _ = dbus_connection_send(connection, message.raw, nil)
                case .call(let message, let id):
                    var serial: UInt32 = 0
                    guard dbus_connection_send(connection, message.raw, &serial) != 0 else {
                        complete(id, with: .failure(DBusError(.noMemory, "cannot queue the message; it was not sent")))
                        continue
                    }
                    serialToID[serial] = id
                    idToSerial[id] = serial
                    if idToSerial.count > maxCallsOnWire.load(ordering: .relaxed) {
                        maxCallsOnWire.store(idToSerial.count, ordering: .relaxed)
                    }
                }
            }
            // 2. Write what the socket takes, read what it has, then dispatch every whole message.
            let alive = dbus_connection_read_write(connection, 0) != 0
            while let raw = dbus_connection_pop_message(connection) {
                handle(LibDBusMessage(taking: raw))
            }
            if !alive || dbus_connection_get_is_connected(connection) == 0 {
                reason = DBusError(.disconnected, "\(label) went away (connection lost)",
                                   hint: "the bus daemon stopped or closed the connection; reconnect once it is back")
                break loop
            }
            // 3. Expire calls whose deadline (or grace) passed.
            let now = ContinuousClock.now
            let (earliest, runnable) = state.withLock { s in
                (s.earliestExpiry, s.closeRequested || s.hasQueuedCommands && idToSerial.count < window)
            }
            if let earliest, earliest <= now {
                expire(now)
                continue
            }
            // Replies freed slots of the window (or a close is pending): take more at once.
            if runnable { continue }
            if dbus_connection_get_dispatch_status(connection) == DBUS_DISPATCH_DATA_REMAINS { continue }
            // 4. Sleep until the socket is readable (or writable, when output is queued),
            //    a command arrives, or the next deadline.
            var events = Int16(POLLIN)
            if dbus_connection_has_messages_to_send(connection) != 0 { events |= Int16(POLLOUT) }
            var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let timeout = earliest.map { pollTimeout(until: $0, from: now) } ?? -1
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

    /// Takes the commands that can go out now, in order: every message up to the first call
    /// that finds the window full. Withdrawn calls are dropped on the way. nil once a close was
    /// asked for.
    private func takeCommands() -> [Command]? {
        state.withLock { s -> [Command]? in
            if s.closeRequested { return nil }
            var taken: [Command] = []
            var onWire = idToSerial.count
            while s.commandHead < s.commands.count {
                guard let command = s.commands[s.commandHead] else {
                    s.commandHead += 1
                    continue
                }
                if case .call(_, let id) = command {
                    if s.calls[id] != nil {
                        if onWire >= window { break }
                        // From here on the call counts as sent: a cancellation waits for its reply.
                        s.calls[id]?.phase = .onWire
                        onWire += 1
                        taken.append(command)
                    }
                    // else: withdrawn or expired while queued; nothing to send, no slot to free.
                } else {
                    taken.append(command)
                }
                s.commands[s.commandHead] = nil
                s.commandHead += 1
            }
            if s.commandHead == s.commands.count {
                s.commands.removeAll(keepingCapacity: s.commands.count < 4096)
                s.commandHead = 0
            } else if s.commandHead >= 1024 && s.commandHead * 2 >= s.commands.count {
                s.commands.removeFirst(s.commandHead)
                s.commandHead = 0
            }
            return taken
        }
    }

    private func pollTimeout(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let remaining = now.duration(to: deadline)
        let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms + 1))
    }

    /// Fails the calls whose expiry passed: a timeout, or the end of a cancelled call's grace.
    private func expire(_ now: ContinuousClock.Instant) {
        let expired: [(UInt64, PendingCall)] = state.withLock { s in
            var expired: [(UInt64, PendingCall)] = []
            var next: ContinuousClock.Instant?
            for (id, call) in s.calls {
                guard let expiry = call.expiry else { continue }
                if expiry <= now {
                    expired.append((id, call))
                } else if next.map({ expiry < $0 }) ?? true {
                    next = expiry
                }
            }
            for (id, _) in expired { s.calls[id] = nil }
            s.earliestExpiry = next
            return expired
        }
        for (id, call) in expired {
            // A late reply finds no serial and is dropped. The bus may still count the call as
            // pending until the peer answers; it no longer holds a slot of our window.
            if let serial = idToSerial.removeValue(forKey: id) { serialToID[serial] = nil }
            call.continuation.resume(throwing: Self.expiryError(call.phase, call: call.message.callName, window: window))
        }
    }

    /// The error that ends a call whose deadline (or grace) passed in `phase`.
    static func expiryError(_ phase: CallPhase, call name: String, window: Int) -> DBusError {
        switch phase {
        case .queued:
            return DBusError(
                .timeout, "\(name): no reply within the call's timeout; it was never sent (it waited for one of the connection's \(window) slots for calls on the wire)",
                hint: "too many calls are outstanding on this connection; raise the timeout or issue fewer calls at once")
        case .onWire:
            return DBusError(
                .timeout, "\(name): no reply within the call's timeout; the call was sent and may have taken effect",
                hint: "the peer is busy or hung; read its state to learn whether the call took effect, and raise the timeout if the operation is legitimately slow",
                outcomeUnknown: true)
        case .cancelled:
            return DBusError(
                .inDoubt, "\(name): the task was cancelled after the call was sent, and no reply came within the cancellation grace; the call may have taken effect",
                hint: "read the peer's state to learn whether the call took effect",
                outcomeUnknown: true)
        }
    }

    private func complete(_ id: UInt64, with result: Result<LibDBusMessage, DBusError>) {
        guard let call = state.withLock({ $0.calls.removeValue(forKey: id) }) else { return }
        call.continuation.resume(with: result.mapError { $0 as any Error })
    }

    private func handle(_ message: LibDBusMessage) {
        switch message.kind {
        case .methodReturn, .error:
            guard let id = serialToID.removeValue(forKey: message.replySerial) else { return }
            idToSerial[id] = nil
            if message.kind == .methodReturn, let sender = message.sender, sender.hasPrefix(":") {
                state.withLock { s in
                    guard !s.ownersToLearn.isEmpty, let destination = s.calls[id]?.message.destination,
                        s.ownersToLearn.contains(destination)
                    else { return }
                    s.ownersToLearn.remove(destination)
                    if s.owners[destination] == nil { s.owners[destination] = sender }
                }
            }
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
                (sub.continuation != nil || sub.observer != nil) && (sub.rule.path.map { $0 == path } ?? true) && (sub.rule.interface.map { $0 == interface } ?? true)
                    && (sub.rule.member.map { $0 == member } ?? true)
            }
        }
        guard anyone, let body = try? message.body() else { return }
        let signal = DBusSignal(sender: sender, path: path, interface: interface, member: member, body: body,
                                serial: message.serial)

        var vanished: [SignalContinuation] = []
        var deliver: [(UInt64, SignalContinuation)] = []
        var observers: [@Sendable (DBusSignal) -> Void] = []
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
                guard sub.continuation != nil || sub.observer != nil else { continue }
                if let wanted = sub.rule.sender?.rawValue {
                    if wanted.hasPrefix(":") || wanted == "org.freedesktop.DBus" {
                        guard wanted == sender else { continue }
                    } else {
                        guard let owner = s.owners[wanted], owner == sender else { continue }
                    }
                }
                if let observer = sub.observer { observers.append(observer) }
                if let continuation = sub.continuation { deliver.append((id, continuation)) }
            }
        }
        // Observers first: a sequence's consumer that sees this signal finds it already applied.
        for observer in observers { observer(signal) }
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

    /// Ends the connection: every call still pending fails with `reason` (marked
    /// ``DBusError/outcomeUnknown`` when it was already sent), every signal sequence ends, and
    /// libdbus's connection and the wake-up pipe are closed.
    func shutDown(_ reason: DBusError) {
        let (calls, subscribers) = state.withLock { s in
            s.closedError = reason
            s.commands.removeAll()
            s.commandHead = 0
            defer {
                s.calls.removeAll()
                s.subscribers.removeAll()
            }
            return (Array(s.calls.values), Array(s.subscribers.values))
        }
        for call in calls {
            var error = reason
            if call.phase == .queued {
                error.message += "; \(call.message.callName) was not sent"
            } else {
                error.message += "; \(call.message.callName) was sent and may have taken effect"
                error.outcomeUnknown = true
            }
            call.continuation.resume(throwing: error)
        }
        for subscriber in subscribers { subscriber.continuation?.finish(throwing: reason) }
        if let connection {
            dbus_connection_close(connection)
            dbus_connection_unref(connection)
        }
        connection = nil
        serialToID.removeAll()
        idToSerial.removeAll()
        Glibc.close(wakeFD)
        Glibc.close(wakeWriteFD)
    }
}
