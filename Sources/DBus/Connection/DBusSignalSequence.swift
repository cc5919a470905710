import Synchronization

/// The signals matching one ``DBusMatchRule``, as an asynchronous sequence.
///
/// The match rule was added on the bus when the sequence was created, so a caller can subscribe
/// first and act afterwards without missing a signal. Leaving the `for try await` loop (or
/// dropping the sequence) gives the rule up (`RemoveMatch` once nothing else uses it). The buffer is bounded: a consumer that falls behind
/// by more than its capacity ends the sequence with ``DBusError/Code/bufferOverflow`` instead
/// of silently losing signals. The sequence also ends with an error when the connection closes
/// (``DBusError/Code/disconnected``) or when the sender it filters on leaves the bus
/// (``DBusError/Code/peerVanished``).
public struct DBusSignalSequence: AsyncSequence, Sendable {
    public typealias Element = DBusSignal
    let stream: AsyncThrowingStream<DBusSignal, any Error>
    let continuation: AsyncThrowingStream<DBusSignal, any Error>.Continuation
    /// The rule this sequence receives.
    public let rule: DBusMatchRule

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<DBusSignal, any Error>.AsyncIterator
        let subscription: Subscription
        public mutating func next() async throws -> DBusSignal? { try await base.next() }
    }

    /// Ends the subscription when the iterator goes away, that is when the `for` loop is left,
    /// even while the sequence value itself is still in scope.
    final class Subscription: Sendable {
        let continuation: AsyncThrowingStream<DBusSignal, any Error>.Continuation
        init(_ continuation: AsyncThrowingStream<DBusSignal, any Error>.Continuation) { self.continuation = continuation }
        deinit { continuation.finish() }
    }

    /// A sequence can be iterated once.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), subscription: Subscription(continuation))
    }
}

extension DBusConnection {
    /// The default number of signals a sequence buffers before its consumer must catch up.
    public static let defaultSignalBuffer = 4096

    /// Subscribes to signals matching `rule`.
    ///
    /// Returns once the bus has accepted the rule (`org.freedesktop.DBus.AddMatch`), so signals
    /// emitted after this call returns are delivered. Sequences (and leases, see
    /// ``keepMatching(_:)``) with the same rule share it on the bus: only the first sends
    /// `AddMatch`, and `RemoveMatch` follows when the last one ends. A rule whose sender is a
    /// well-known name also needs that name's owner, asked with `GetNameOwner` unless a
    /// sequence or lease already tracks it.
    /// - Throws: ``DBusError`` if the bus rejects the rule or the connection is closed.
    public func signals(matching rule: DBusMatchRule, bufferSize: Int = DBusConnection.defaultSignalBuffer) async throws -> DBusSignalSequence {
        let (stream, continuation) = AsyncThrowingStream<DBusSignal, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        let registration = try await register(rule, continuation)
        continuation.onTermination = { _ in registration.end() }
        return DBusSignalSequence(stream: stream, continuation: continuation, rule: rule)
    }

    /// Keeps `rule` on the bus, without receiving anything, until the lease is released (or
    /// dropped), so that sequences made later with the same rule (``signals(matching:bufferSize:)``)
    /// start without a round trip to the bus: a client that waits for signals again and again
    /// pays `AddMatch` once. For a rule whose sender is a well-known name, the lease also keeps
    /// that name's owner tracked (through `NameOwnerChanged`), across restarts of the service;
    /// the owner is learnt from the next reply that name sends (no `GetNameOwner`), so
    /// ``trackedOwner(of:)`` is nil until then.
    ///
    /// The corresponding D-Bus method is `org.freedesktop.DBus.AddMatch` (and `RemoveMatch` at
    /// the release, once no sequence uses the rule either).
    public func keepMatching(_ rule: DBusMatchRule) async throws -> DBusMatchLease {
        DBusMatchLease(rule: rule, registration: try await register(rule, nil))
    }

    /// ``keepMatching(_:)``, and `observer` called with every signal the rule matches, from
    /// the moment the lease is registered (before `AddMatch` is sent) until it is released.
    ///
    /// The observer runs on the connection's I/O thread, in the order messages are read: a
    /// signal is observed before any sequence receives it and before the reply of any call
    /// read after it resumes its caller. So state the observer folds from signals is, when a
    /// call returns, as new as everything its peer sent before that reply. It must be quick
    /// and must not call the connection.
    public func keepMatching(_ rule: DBusMatchRule, observer: @escaping @Sendable (DBusSignal) -> Void) async throws -> DBusMatchLease {
        DBusMatchLease(rule: rule, registration: try await register(rule, nil, observer: observer))
    }

    /// Registers a subscriber (a lease when `continuation` is nil) in the transport first, so
    /// that no signal sent after the rule reaches the bus is missed; then holds the rules on
    /// the bus; then learns the sender's owner if nobody tracks it yet.
    func register(_ rule: DBusMatchRule, _ continuation: AsyncThrowingStream<DBusSignal, any Error>.Continuation?,
                  observer: (@Sendable (DBusSignal) -> Void)? = nil) async throws -> MatchRegistration {
        let id = try transport.addSubscriber(rule, continuation, observer: observer)
        var rules = [rule]
        if let sender = rule.sender, sender != .bus {
            // Track the sender's owner, so that the sequence ends when it leaves the bus and
            // well-known names match signals sent from the owner's unique name.
            rules.insert(DBusMatchRule(sender: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                       member: "NameOwnerChanged", arguments: [0: sender.rawValue]), at: 0)
        }
        let registration = MatchRegistration(connection: self, subscriber: id)
        do {
            for matchRule in rules { try await registration.hold(matchRule) }
            if let sender = rule.sender, !sender.isUnique, sender != .bus, transport.trackedOwner(of: sender.rawValue) == nil {
                if continuation == nil {
                    // A lease delivers nothing: the owner is learnt, without a round trip, from
                    // the next reply the name sends (its NameOwnerChanged rule is on the bus
                    // now, so no later change of owner is missed). A sequence made before
                    // that reply asks GetNameOwner itself.
                    transport.learnOwnerFromNextReply(sender.rawValue)
                } else if let owner = try? await nameOwner(sender) {
                    transport.setOwnerIfUnknown(sender.rawValue, owner: owner.rawValue)
                }
            }
        } catch {
            registration.end()
            continuation?.finish()
            throw error
        }
        return registration
    }
}

/// A match rule kept on the bus by ``DBusConnection/keepMatching(_:)``. Releasing it (or
/// dropping the last reference) gives the rule up; `RemoveMatch` is sent once no sequence
/// uses it either.
public final class DBusMatchLease: Sendable {
    /// The rule kept.
    public let rule: DBusMatchRule
    let registration: MatchRegistration

    init(rule: DBusMatchRule, registration: MatchRegistration) {
        self.rule = rule
        self.registration = registration
    }

    /// Gives the rule up now. Calling it again does nothing.
    public func release() { registration.end() }

    deinit { registration.end() }
}

/// One user's hold on match rules, and its subscriber in the transport; ended once.
final class MatchRegistration: Sendable {
    let connection: DBusConnection
    let subscriber: UInt64
    /// The rules this user holds (added, or being added, on the bus); nil once ended.
    let held = Mutex<[String]?>([])

    init(connection: DBusConnection, subscriber: UInt64) {
        self.connection = connection
        self.subscriber = subscriber
    }

    /// Holds `rule` on the bus (recorded only once that succeeded, so that a failed hold is
    /// never released).
    func hold(_ rule: DBusMatchRule) async throws {
        let text = rule.description
        try await connection.matches.retain(text, on: connection)
        let ended = held.withLock { list -> Bool in
            guard list != nil else { return true }
            list?.append(text)
            return false
        }
        if ended { connection.matches.release(text, on: connection) }
    }

    func end() {
        guard let rules = held.withLock({ list -> [String]? in
            defer { list = nil }
            return list
        }) else { return }
        connection.transport.removeSubscriber(subscriber)
        for text in rules { connection.matches.release(text, on: connection) }
    }
}

/// The match rules on the bus, counted: one `AddMatch` per distinct rule while anyone uses it.
final class MatchRegistry: Sendable {
    struct Entry {
        var users: Int
        /// The `AddMatch` call: later users wait for it too, so that for each of them the rule
        /// is in force when they return.
        var added: Task<Void, any Error>
    }
    let entries = Mutex<[String: Entry]>([:])

    func retain(_ text: String, on connection: DBusConnection) async throws {
        let added = entries.withLock { entries -> Task<Void, any Error> in
            if var entry = entries[text] {
                entry.users += 1
                entries[text] = entry
                return entry.added
            }
            let added = Task {
                try await connection.call(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                          member: "AddMatch", arguments: [.string(text)])
                return ()
            }
            entries[text] = Entry(users: 1, added: added)
            return added
        }
        do {
            try await added.value
        } catch {
            // Not on the bus: forget it, so that the next user tries again.
            entries.withLock { entries in
                if entries[text]?.added == added { entries[text] = nil }
            }
            throw error
        }
    }

    func release(_ text: String, on connection: DBusConnection) {
        let remove = entries.withLock { entries -> Bool in
            guard var entry = entries[text] else { return false }
            entry.users -= 1
            guard entry.users <= 0 else {
                entries[text] = entry
                return false
            }
            entries[text] = nil
            return true
        }
        if remove {
            try? connection.callNoReply(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                        member: "RemoveMatch", arguments: [.string(text)])
        }
    }
}
