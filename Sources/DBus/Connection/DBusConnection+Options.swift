extension DBusConnection {
    /// How a connection is set up and how it treats its calls; fixed when connecting.
    ///
    /// ```swift
    /// var options = DBusConnection.Options()
    /// options.connectTimeout = .seconds(3)
    /// let bus = try await DBusConnection.system(options: options)
    /// ```
    public struct Options: Sendable, Hashable {
        /// How long connecting may take: opening the socket, the authentication handshake and
        /// the bus's `org.freedesktop.DBus.Hello`. A peer that accepts the connection and then
        /// says nothing fails with ``DBusError/Code/timeout`` after this long, instead of
        /// hanging the caller. Default 10 s.
        public var connectTimeout: Duration

        /// How long a call whose task is cancelled after the call was sent still waits for its
        /// reply, never beyond the call's own timeout. Default 5 s.
        ///
        /// A call already handed to the bus may take effect whatever its caller does, so a
        /// cancelled task does not abandon it: the reply, if it comes within the grace, is
        /// returned as if the task had not been cancelled (the outcome is known), and the caller
        /// sees `Task.isCancelled` at its next check. Without a reply by then the call fails
        /// with ``DBusError/Code/inDoubt`` (``DBusError/outcomeUnknown`` is true). A call still
        /// waiting in the connection's queue is withdrawn and fails with `CancellationError` at
        /// once: nothing was sent. `.zero` reports a sent call in doubt at once.
        public var cancellationGrace: Duration

        /// The most method calls this connection has on the wire at once (sent, reply not yet
        /// received). Further calls wait, in order, inside the connection and go out as
        /// replies come back. Default 64.
        ///
        /// dbus-daemon refuses a connection more than `max_replies_per_connection` pending
        /// replies (`org.freedesktop.DBus.Error.LimitsExceeded`); that limit is 128 on a system
        /// bus that does not set it (dbus 1.14's built-in default, which Debian's system.conf
        /// keeps; the bus never times such replies out by itself, `reply_timeout` being unset).
        /// The default leaves half of it for calls given up on (timed out or in doubt) whose
        /// replies the bus still waits for: they no longer hold a slot of this window. Calls to
        /// the bus itself (`AddMatch`, `GetNameOwner`) take a slot too, although the bus does
        /// not count them. At least 1.
        public var callWindow: Int

        /// Whether ``DBusConnection/system(options:logger:)`` may use a `DBUS_SYSTEM_BUS_ADDRESS`
        /// whose transport is not a socket (`unixexec:`, `autolaunch:`, ...). Default false:
        /// only `unix:`, `tcp:` and `nonce-tcp:` are accepted, because a program that may run as
        /// root would otherwise run whatever command the environment names. An address given
        /// to ``DBusConnection/connect(address:registerOnBus:options:logger:)`` is the caller's
        /// own choice and is not checked.
        public var allowsNonSocketSystemBus: Bool

        /// The default options: connect within 10 s, a 5 s cancellation grace, 64 calls on the
        /// wire, socket transports only for the system bus.
        public init(
            connectTimeout: Duration = .seconds(10), cancellationGrace: Duration = .seconds(5), callWindow: Int = 64,
            allowsNonSocketSystemBus: Bool = false
        ) {
            self.connectTimeout = connectTimeout
            self.cancellationGrace = cancellationGrace
            self.callWindow = callWindow
            self.allowsNonSocketSystemBus = allowsNonSocketSystemBus
        }

        /// Refuses options that cannot work, before anything is opened.
        func validate() throws(DBusError) {
            guard callWindow >= 1 else {
                throw DBusError(.invalidValue, "callWindow must be at least 1, not \(callWindow)",
                                hint: "the default, 64, stays well under dbus-daemon's limit of pending replies")
            }
            guard connectTimeout > .zero else {
                throw DBusError(.invalidValue, "connectTimeout must be positive, not \(connectTimeout)")
            }
            guard cancellationGrace >= .zero else {
                throw DBusError(.invalidValue, "cancellationGrace must not be negative, not \(cancellationGrace)")
            }
        }
    }
}
