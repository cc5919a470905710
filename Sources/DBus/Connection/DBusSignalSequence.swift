/// The signals matching one ``DBusMatchRule``, as an asynchronous sequence.
///
/// The match rule was added on the bus when the sequence was created, so a caller can subscribe
/// first and act afterwards without missing a signal. Leaving the `for try await` loop (or
/// dropping the sequence) removes the rule. The buffer is bounded: a consumer that falls behind
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
    /// emitted after this call returns are delivered.
    /// - Throws: ``DBusError`` if the bus rejects the rule or the connection is closed.
    public func signals(matching rule: DBusMatchRule, bufferSize: Int = DBusConnection.defaultSignalBuffer) async throws -> DBusSignalSequence {
        let (stream, continuation) = AsyncThrowingStream<DBusSignal, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        let id = try transport.addSubscriber(rule, continuation)
        var ownerRule: DBusMatchRule?
        if let sender = rule.sender, sender != .bus {
            // Track the sender's owner, so that the sequence ends when it leaves the bus and
            // well-known names match signals sent from the owner's unique name.
            ownerRule = DBusMatchRule(sender: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                      member: "NameOwnerChanged", arguments: [0: sender.rawValue])
        }
        let matchRules = [ownerRule, rule].compactMap { $0 }
        continuation.onTermination = { [weak self, transport] _ in
            transport.removeSubscriber(id)
            for matchRule in matchRules {
                try? self?.callNoReply(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                                       member: "RemoveMatch", arguments: [.string(matchRule.description)])
            }
        }
        do {
            for matchRule in matchRules {
                try await call(destination: .bus, path: "/org/freedesktop/DBus", interface: .bus,
                               member: "AddMatch", arguments: [.string(matchRule.description)])
            }
            if let sender = rule.sender, !sender.isUnique, sender != .bus {
                if let owner = try? await nameOwner(sender) {
                    transport.setOwnerIfUnknown(sender.rawValue, owner: owner.rawValue)
                }
            }
        } catch {
            continuation.finish()
            throw error
        }
        return DBusSignalSequence(stream: stream, continuation: continuation, rule: rule)
    }
}
