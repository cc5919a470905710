/// Text that came from outside (a peer's error message, a profile name, a value being
/// refused), made safe to show on a terminal.
///
/// A D-Bus error's message is whatever the peer chose to send: ANSI escape sequences that
/// recolour or clear the terminal, a carriage return that overwrites the line before it, a
/// hundred kilobytes. ``sanitized(_:limit:)`` makes every control character visible
/// (`\u{1b}`) and bounds the length; ``NMError`` applies it to every message it takes from the
/// bus, and the library's own messages quote offending values through ``quoted(_:limit:)``.
public enum NMText {
    /// The default bound of ``sanitized(_:limit:)``, in Unicode scalars.
    public static let defaultLimit = 512

    /// Whether `scalar` is a control character in the sense of this library: C0 (U+0000-U+001F,
    /// tab, newline and escape included), DEL, C1 (U+0080-U+009F), the line and paragraph
    /// separators U+2028/U+2029, and the bidirectional embeddings, overrides and isolates
    /// (U+202A-U+202E, U+2066-U+2069), which reorder what a terminal shows.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The first control character (``isControl(_:)``) in `text`, if there is one.
    public static func firstControl(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first(where: isControl)
    }

    /// `scalar` as it is shown: itself, or `\u{1b}` for a control character.
    public static func visible(_ scalar: Unicode.Scalar) -> String {
        isControl(scalar) ? "\\u{" + String(scalar.value, radix: 16) + "}" : String(scalar)
    }

    /// `text` with every control character (``isControl(_:)``) written as `\u{1b}`,
    /// `\u{a}`, ..., and at most `limit` Unicode scalars long: longer text is cut (never
    /// inside an escape) and ends in "… (N more characters)", N counting the characters of
    /// `text` left out.
    ///
    /// The limit counts Unicode scalars, not `Character`s: one grapheme cluster can be made
    /// of any number of combining scalars.
    public static func sanitized(_ text: String, limit: Int = defaultLimit) -> String {
        let limit = max(limit, 1)
        var out = String.UnicodeScalarView()
        var length = 0
        var shown = 0
        var cut = false
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let escape = "\\u{" + String(scalar.value, radix: 16) + "}"
                let count = escape.unicodeScalars.count
                if length + count > limit { cut = true; break }
                out.append(contentsOf: escape.unicodeScalars)
                length += count
            } else {
                if length + 1 > limit { cut = true; break }
                out.append(scalar)
                length += 1
            }
            shown += 1
        }
        guard cut else { return String(out) }
        let rest = text.unicodeScalars.count - shown
        return String(out) + "… (\(rest) more character\(rest == 1 ? "" : "s"))"
    }

    /// `text` cut to at most `limit` Unicode scalars, ending in "… (N more characters)" when
    /// it was longer; control characters are kept. For output that escapes them itself (JSON)
    /// but must still be bounded.
    public static func truncated(_ text: String, limit: Int = defaultLimit) -> String {
        let limit = max(limit, 1)
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        let rest = scalars.count - limit
        return String(String.UnicodeScalarView(scalars.prefix(limit))) + "… (\(rest) more character\(rest == 1 ? "" : "s"))"
    }

    /// `text` in double quotes, sanitized (``sanitized(_:limit:)``, 64 scalars by default):
    /// how the library's messages show a value they refuse.
    public static func quoted(_ text: String, limit: Int = 64) -> String {
        "\"" + sanitized(text, limit: limit) + "\""
    }
}
