import Foundation

/// A failure of the test environment: a helper command that failed, a daemon that did not
/// come up in time, a missing tool or privilege.
///
/// Integration tests let these propagate so that they *fail*: an environment that cannot
/// run the integration tiers (not root, no namespaces, a package missing) must not turn
/// into a green run of skipped tests.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A command exited with a non-zero status (see ``status`` and ``stderr``).
        case commandFailed
        /// Something did not happen before its deadline.
        case timeout
        /// A required program is missing or the caller lacks a privilege.
        case unavailable
        /// The caller passed something the helper cannot use.
        case invalidArgument
    }

    public let kind: Kind
    /// What went wrong, in one line.
    public let message: String
    /// The command line involved, if any.
    public let command: [String]
    /// Its exit status, if it ran to completion.
    public let status: Int32?
    /// Its standard error (or a log tail) as text.
    public let stderr: String

    public init(
        _ kind: Kind, _ message: String, command: [String] = [], status: Int32? = nil, stderr: String = ""
    ) {
        self.kind = kind
        self.message = message
        self.command = command
        self.status = status
        self.stderr = stderr
    }

    public var description: String {
        var text = message
        if !command.isEmpty {
            text += "\n  command: " + command.map(Self.shellQuoted).joined(separator: " ")
        }
        if let status {
            text += "\n  exit status: \(status)"
        }
        let trimmed = stderr.trimmingTrailingNewlines()
        if !trimmed.isEmpty {
            text += "\n  stderr:\n" + trimmed.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    " + $0 }.joined(separator: "\n")
        }
        return text
    }

    static func shellQuoted(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "-_./=:,+@%".unicodeScalars.contains($0)
        }
        if safe && !word.isEmpty { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
