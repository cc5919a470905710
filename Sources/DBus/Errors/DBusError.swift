/// An error from the D-Bus layer: a local failure (bad input, a closed connection, a timeout)
/// or an error reply sent by a peer.
///
/// A remote error keeps its D-Bus error ``name`` and ``message`` exactly as the peer sent them;
/// the standard `org.freedesktop.DBus.Error.*` names are also recognisable as a ``Code``.
/// Libraries layered on top (the NetworkManager module) parse ``name`` into their own codes.
public struct DBusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as a value to switch on.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Local validation and decoding.
        /// A name (object path, bus, interface, member, error name) is malformed.
        public static let invalidName = Code(rawValue: "invalid-name")
        /// A type signature is malformed.
        public static let invalidSignature = Code(rawValue: "invalid-signature")
        /// A value does not have the D-Bus type that was asked for.
        public static let typeMismatch = Code(rawValue: "type-mismatch")
        /// A value cannot be put on the wire (for example a string with a NUL character).
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// A bus address is malformed or cannot be reached.
        public static let badAddress = Code(rawValue: "bad-address")

        // Connection state.
        /// The connection is closed or the bus went away.
        public static let disconnected = Code(rawValue: "disconnected")
        /// No reply came before the call's timeout (or, while connecting, no answer before the
        /// connect timeout). Whether a timed-out call was sent is ``DBusError/outcomeUnknown``.
        public static let timeout = Code(rawValue: "timeout")
        /// The calling task was cancelled after its call was sent, and the reply did not come
        /// within the connection's cancellation grace
        /// (``DBusConnection/Options/cancellationGrace``): the call may have taken effect.
        /// ``DBusError/outcomeUnknown`` is always true.
        public static let inDoubt = Code(rawValue: "in-doubt")
        /// The peer that owned a name left the bus.
        public static let peerVanished = Code(rawValue: "peer-vanished")
        /// A signal sequence's consumer fell behind and its bounded buffer filled up; the
        /// sequence ended rather than silently dropping signals.
        public static let bufferOverflow = Code(rawValue: "buffer-overflow")
        /// libdbus could not allocate memory.
        public static let noMemory = Code(rawValue: "no-memory")

        // The standard error names of the D-Bus specification (`org.freedesktop.DBus.Error.*`).
        public static let failed = Code(rawValue: "Failed")
        public static let serviceUnknown = Code(rawValue: "ServiceUnknown")
        public static let nameHasNoOwner = Code(rawValue: "NameHasNoOwner")
        public static let noReply = Code(rawValue: "NoReply")
        public static let accessDenied = Code(rawValue: "AccessDenied")
        public static let authFailed = Code(rawValue: "AuthFailed")
        public static let unknownMethod = Code(rawValue: "UnknownMethod")
        public static let unknownObject = Code(rawValue: "UnknownObject")
        public static let unknownInterface = Code(rawValue: "UnknownInterface")
        public static let unknownProperty = Code(rawValue: "UnknownProperty")
        public static let propertyReadOnly = Code(rawValue: "PropertyReadOnly")
        public static let invalidArgs = Code(rawValue: "InvalidArgs")
        public static let invalidSignatureRemote = Code(rawValue: "InvalidSignature")
        public static let notSupported = Code(rawValue: "NotSupported")
        public static let limitsExceeded = Code(rawValue: "LimitsExceeded")
        public static let matchRuleNotFound = Code(rawValue: "MatchRuleNotFound")
        public static let matchRuleInvalid = Code(rawValue: "MatchRuleInvalid")
        public static let interactiveAuthorizationRequired = Code(rawValue: "InteractiveAuthorizationRequired")
        public static let remoteTimeout = Code(rawValue: "Timeout")
        public static let remoteDisconnected = Code(rawValue: "Disconnected")
        public static let noServer = Code(rawValue: "NoServer")
        public static let badAddressRemote = Code(rawValue: "BadAddress")

        /// An error reply whose name is not one of the standard names: see ``DBusError/name``.
        public static let remote = Code(rawValue: "remote")
    }

    /// What went wrong.
    public var code: Code
    /// The D-Bus error name, for an error reply from a peer (or the bus); `nil` for local errors.
    public var name: String?
    /// The human-readable message (a peer's own text for remote errors).
    public var message: String
    /// What the caller can do about it, where there is something to say.
    public var hint: String?
    /// Whether the call this error ends was sent and its reply never read: the peer may have
    /// done what was asked, or not, and only a later read of its state can tell.
    ///
    /// True for ``Code/inDoubt`` (cancelled after sending, no reply within the grace), for a
    /// ``Code/timeout`` or a ``Code/disconnected`` of a call that was already on the wire, and
    /// for the bus's `org.freedesktop.DBus.Error.NoReply` (``Code/noReply``: the bus delivered
    /// the call and its recipient left, or the bus gave up, before replying). False for every
    /// other error reply (the peer answered), and for a call refused or withdrawn before it
    /// was sent (a closed connection, an invalid message, a timeout or a disconnection while it
    /// still waited in the connection's queue): such a call did not happen.
    ///
    /// A transaction must treat a call that failed this way as possibly done, never as not done.
    public var outcomeUnknown: Bool

    public init(_ code: Code, _ message: String, name: String? = nil, hint: String? = nil, outcomeUnknown: Bool = false) {
        self.code = code
        self.message = message
        self.name = name
        self.hint = hint
        self.outcomeUnknown = outcomeUnknown
    }

    /// Builds the error for an error reply named `name`, mapping the standard names to codes.
    public static func remote(name: String, message: String) -> DBusError {
        let prefix = "org.freedesktop.DBus.Error."
        var code = Code.remote
        if name.hasPrefix(prefix) {
            let short = String(name.dropFirst(prefix.count))
            switch short {
            case "Timeout", "TimedOut": code = .remoteTimeout
            case "Disconnected": code = .remoteDisconnected
            case "InvalidSignature": code = .invalidSignatureRemote
            case "BadAddress": code = .badAddressRemote
            default:
                let candidate = Code(rawValue: short)
                code = standardRemoteCodes.contains(candidate) ? candidate : .remote
            }
        }
        // NoReply comes from the bus for a call it delivered whose recipient never answered:
        // the call reached the peer, and what the peer did is unknown.
        return DBusError(code, message, name: name, hint: hintFor(code), outcomeUnknown: code == .noReply)
    }

    private static let standardRemoteCodes: Set<Code> = [
        .failed, .serviceUnknown, .nameHasNoOwner, .noReply, .accessDenied, .authFailed,
        .unknownMethod, .unknownObject, .unknownInterface, .unknownProperty, .propertyReadOnly,
        .invalidArgs, .notSupported, .limitsExceeded, .matchRuleNotFound, .matchRuleInvalid,
        .interactiveAuthorizationRequired, .noServer,
    ]

    private static func hintFor(_ code: Code) -> String? {
        switch code {
        case .serviceUnknown, .nameHasNoOwner:
            return "the service is not running on this bus; check that it is started and that the right bus address is used"
        case .accessDenied:
            return "the bus policy does not allow this call for this user; run as a user the service permits (often root)"
        case .noReply:
            return "the peer received the call but did not answer in time or left the bus before answering; it may have acted on it, read its state to know"
        case .unknownMethod, .unknownInterface, .unknownObject, .unknownProperty:
            return "the peer does not implement this; it may be an older version"
        default:
            return nil
        }
    }

    /// Whether this error is an error reply from a peer rather than a local failure.
    public var isRemote: Bool { name != nil }

    public var description: String {
        var text = name.map { "\($0): \(message)" } ?? "\(code.rawValue): \(message)"
        if outcomeUnknown { text += " [outcome unknown: the call was sent and may have taken effect]" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
