public import Logging

/// A private connection to a D-Bus bus (or a peer), owned by this object.
///
/// ```swift
/// let bus = try await DBusConnection.system()
/// let reply = try await bus.call(
///     destination: "org.freedesktop.NetworkManager", path: "/org/freedesktop/NetworkManager",
///     interface: "org.freedesktop.DBus.Properties", member: "Get",
///     arguments: ["org.freedesktop.NetworkManager", "Version"])
/// ```
///
/// ## Threading
/// A connection is `Sendable`: any number of tasks may call it at once. Each connection has its
/// own I/O thread that alone drives libdbus; callers suspend (they never block a thread of
/// Swift's cooperative pool) until their reply arrives, so concurrent calls are pipelined on
/// the socket rather than made one round trip at a time, up to ``Options/callWindow`` calls on
/// the wire; the others wait their turn inside the connection.
///
/// ## Lifetime and failure
/// Connecting (the socket, authentication, `org.freedesktop.DBus.Hello`) is bounded by
/// ``Options/connectTimeout``. The connection is private (not shared with other users of
/// libdbus in the process), and libdbus's exit-on-disconnect is turned off: when the bus goes
/// away, every pending call fails and every signal sequence ends with
/// ``DBusError/Code/disconnected``; the process never exits. ``close()`` does the same on
/// purpose; releasing the last reference closes too. A call that was already sent when that
/// happens fails with ``DBusError/outcomeUnknown`` true: it may have taken effect.
///
/// ## Cancellation
/// A call that was sent is never abandoned by cancelling its task: see
/// ``call(destination:path:interface:member:arguments:timeout:flags:)``.
public final class DBusConnection: Sendable {
    let transport: LibDBusTransport
    let logger: Logger?
    /// The match rules this connection holds on the bus, shared by the sequences and leases
    /// that use them.
    let matches = MatchRegistry()

    /// The default timeout of a method call (libdbus's own default).
    public static let defaultTimeout: Duration = .seconds(25)

    /// The options this connection was made with.
    public let options: Options

    private init(transport: LibDBusTransport, options: Options, logger: Logger?) {
        self.transport = transport
        self.options = options
        self.logger = logger
        logger?.debug("connected", metadata: ["bus": "\(transport.label)", "unique-name": "\(transport.uniqueName ?? "-")"])
    }

    deinit { transport.close() }

    /// Connects to the system bus: `DBUS_SYSTEM_BUS_ADDRESS` if set, else libdbus's default,
    /// `unix:path=/var/run/dbus/system_bus_socket`.
    ///
    /// Connecting, authenticating and the bus's `org.freedesktop.DBus.Hello` together take at
    /// most ``Options/connectTimeout``.
    /// - Throws: ``DBusError`` with ``DBusError/Code/badAddress`` when `DBUS_SYSTEM_BUS_ADDRESS`
    ///   is malformed or names a transport that is not a socket (`unixexec:`, `autolaunch:`; only
    ///   `unix:`, `tcp:` and `nonce-tcp:` are accepted unless ``Options/allowsNonSocketSystemBus``);
    ///   ``DBusError/Code/disconnected`` when nothing listens there; ``DBusError/Code/timeout``
    ///   when something listens but does not complete the handshake in time;
    ///   ``DBusError/Code/authFailed`` when the peer closes the connection while authenticating
    ///   (it does not speak D-Bus, or refuses this user); or `CancellationError`.
    public static func system(options: Options = Options(), logger: Logger? = nil) async throws -> DBusConnection {
        DBusConnection(transport: try await LibDBusTransport.open(.system, options: options), options: options, logger: logger)
    }

    /// Connects to the session bus: `DBUS_SESSION_BUS_ADDRESS` if set, else
    /// `$XDG_RUNTIME_DIR/bus`, else libdbus's `autolaunch:`. Errors as ``system(options:logger:)``,
    /// without the check of the transport.
    public static func session(options: Options = Options(), logger: Logger? = nil) async throws -> DBusConnection {
        DBusConnection(transport: try await LibDBusTransport.open(.session, options: options), options: options, logger: logger)
    }

    /// Connects to the bus (or peer) at `address`, such as `unix:path=/run/dbus/system_bus_socket`.
    ///
    /// Any transport libdbus supports is accepted: the address is the caller's explicit choice.
    /// Connecting, authenticating and `org.freedesktop.DBus.Hello` together take at most
    /// ``Options/connectTimeout``.
    /// - Parameter registerOnBus: send the bus's `Hello` to obtain a unique name; pass `false`
    ///   for a direct peer-to-peer connection that has no bus daemon behind it.
    /// - Throws: ``DBusError`` with ``DBusError/Code/badAddress`` for a malformed address,
    ///   ``DBusError/Code/disconnected`` when nothing listens there, ``DBusError/Code/timeout``
    ///   when something listens but does not complete the handshake within
    ///   ``Options/connectTimeout``, ``DBusError/Code/authFailed`` when the peer closes the
    ///   connection while authenticating; or `CancellationError`.
    public static func connect(
        address: String, registerOnBus: Bool = true, options: Options = Options(), logger: Logger? = nil
    ) async throws -> DBusConnection {
        DBusConnection(transport: try await LibDBusTransport.open(.address(address, register: registerOnBus), options: options),
                       options: options, logger: logger)
    }

    /// The unique name the bus gave this connection (`:1.42`), or nil for a peer connection.
    public var uniqueName: BusName? { transport.uniqueName.flatMap { BusName(rawValue: $0) } }

    /// Whether this connection can pass Unix file descriptors (type `h`).
    public var canPassUnixFDs: Bool { transport.canPassUnixFDs }

    /// Whether the connection has been closed or lost.
    public var isClosed: Bool { transport.isClosed }

    /// Closes the connection. Pending calls fail and signal sequences end with
    /// ``DBusError/Code/disconnected``. Calling it again does nothing.
    public func close() { transport.close() }

    // MARK: - Method calls

    /// Options of one method call.
    public struct CallFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Do not ask the bus to start the destination service if it is not running.
        public static let noAutoStart = CallFlags(rawValue: 1 << 0)
        /// Allow the service to ask the user interactively (polkit) before answering.
        public static let allowInteractiveAuthorization = CallFlags(rawValue: 1 << 1)
    }

    /// Calls a method and returns the reply's arguments.
    ///
    /// Calls from any number of tasks are pipelined: up to ``Options/callWindow`` are on the wire
    /// at once, and the others wait their turn, in order, inside the connection.
    ///
    /// ## Cancellation never abandons a sent call
    /// A call handed to the bus may take effect whatever happens to its caller, so cancelling
    /// the calling task does not pretend otherwise:
    /// - still waiting in the connection's queue, the call is withdrawn (it is never sent) and
    ///   this throws `CancellationError` at once;
    /// - already sent, the call keeps waiting for its reply for ``Options/cancellationGrace``
    ///   (never beyond `timeout`). A reply in that time is returned, or its error thrown, as if
    ///   the task had not been cancelled: the outcome is known, and the caller sees
    ///   `Task.isCancelled` at its next check. Otherwise this throws ``DBusError/Code/inDoubt``.
    ///
    /// ## Outcome unknown
    /// A ``DBusError`` with ``DBusError/outcomeUnknown`` true ends a call that was sent and whose
    /// reply was never read: ``DBusError/Code/inDoubt``, a ``DBusError/Code/timeout`` or
    /// ``DBusError/Code/disconnected`` of a call on the wire, or the bus's
    /// ``DBusError/Code/noReply``. The peer may have done what was asked; only reading its state
    /// tells. Every other error means the call did not take effect as asked: an error reply from
    /// the peer, or a refusal before sending (a closed connection, an invalid message, a timeout
    /// or disconnection while still queued). `CancellationError` always means nothing was sent.
    ///
    /// - Parameters:
    ///   - timeout: how long to wait for the reply, queueing included; `nil` waits for ever (a
    ///     disconnection still ends the wait).
    /// - Throws: ``DBusError``: the peer's error reply (its name and message kept),
    ///   ``DBusError/Code/timeout``, ``DBusError/Code/inDoubt``, ``DBusError/Code/disconnected``;
    ///   or `CancellationError`.
    @discardableResult
    public func call(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName,
        arguments: [DBusValue] = [], timeout: Duration? = DBusConnection.defaultTimeout, flags: CallFlags = []
    ) async throws -> [DBusValue] {
        try await callWithSender(destination: destination, path: path, interface: interface, member: member,
                                 arguments: arguments, timeout: timeout, flags: flags).body
    }

    /// ``call(destination:path:interface:member:arguments:timeout:flags:)``, also returning the
    /// unique bus name of the peer that answered (the reply's sender): for a call to a
    /// well-known name, its owner at the time of the reply, learnt without `GetNameOwner`.
    public func callWithSender(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName,
        arguments: [DBusValue] = [], timeout: Duration? = DBusConnection.defaultTimeout, flags: CallFlags = []
    ) async throws -> (body: [DBusValue], sender: BusName?) {
        let reply = try await callWithReply(destination: destination, path: path, interface: interface, member: member,
                                            arguments: arguments, timeout: timeout, flags: flags)
        return (reply.body, reply.sender)
    }

    /// ``callWithSender(destination:path:interface:member:arguments:timeout:flags:)``, also
    /// returning the reply's own serial (see ``DBusSignal/serial``).
    public func callWithReply(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName,
        arguments: [DBusValue] = [], timeout: Duration? = DBusConnection.defaultTimeout, flags: CallFlags = []
    ) async throws -> (body: [DBusValue], sender: BusName?, serial: UInt32) {
        let message = try LibDBusMessage.methodCall(destination: destination, path: path, interface: interface, member: member)
        if flags.contains(.noAutoStart) { message.autoStart = false }
        if flags.contains(.allowInteractiveAuthorization) { message.allowInteractiveAuthorization = true }
        try message.append(arguments)
        logger?.trace("call", metadata: ["member": "\(interface.map { "\($0)." } ?? "")\(member)", "path": "\(path)"])
        let reply = try await transport.call(message, timeout: timeout)
        if reply.kind == .error {
            let name = reply.errorName ?? "org.freedesktop.DBus.Error.Failed"
            var text = ""
            if let body = try? reply.body(), case .string(let first)? = body.first { text = first }
            let error = DBusError.remote(name: name, message: text)
            logger?.debug("error reply", metadata: ["member": "\(member)", "error": "\(error)"])
            throw error
        }
        return (try reply.body(), reply.sender.flatMap { BusName(rawValue: $0) }, reply.serial)
    }

    /// Calls a method whose reply is a single value of type `T`.
    public func call<T: DBusRepresentable>(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName,
        arguments: [DBusValue] = [], timeout: Duration? = DBusConnection.defaultTimeout, flags: CallFlags = [],
        returning: T.Type
    ) async throws -> T {
        let body = try await call(
            destination: destination, path: path, interface: interface, member: member,
            arguments: arguments, timeout: timeout, flags: flags)
        guard body.count == 1 else {
            throw DBusError(.typeMismatch, "\(member) returned \(body.count) values, expected one of type '\(T.dbusType.signature)'")
        }
        return try T(dbusValue: body[0])
    }

    /// Sends a method call without waiting for (or asking for) a reply.
    public func callNoReply(
        destination: BusName?, path: ObjectPath, interface: InterfaceName?, member: MemberName,
        arguments: [DBusValue] = []
    ) throws(DBusError) {
        let message = try LibDBusMessage.methodCall(destination: destination, path: path, interface: interface, member: member)
        message.noReplyExpected = true
        try message.append(arguments)
        try transport.send(message)
    }

    /// Emits a signal from this connection.
    public func emit(path: ObjectPath, interface: InterfaceName, member: MemberName, arguments: [DBusValue] = []) throws(DBusError) {
        let message = try LibDBusMessage.signal(path: path, interface: interface, member: member)
        try message.append(arguments)
        try transport.send(message)
    }
}
