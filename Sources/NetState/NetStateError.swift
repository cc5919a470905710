/// A desired state that cannot be used: the key's path (`interfaces[1].bridge.port[0].nme`),
/// what is wrong, and a hint. Nothing has been touched when this is thrown.
public struct NetStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the file: keys joined by `.`, list positions in brackets; empty for the whole document.
    public var path: String
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var hint: String

    public init(path: String, _ message: String, hint: String) {
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        (path.isEmpty ? "" : "\(path): ") + message + " (hint: \(hint))"
    }
}
