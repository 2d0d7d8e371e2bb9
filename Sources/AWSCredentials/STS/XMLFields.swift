import Foundation

/// Reads leaf values out of the small, flat XML documents STS answers with.
///
/// STS responses are machine-written and never use attributes, CDATA or nested elements of the same name in the
/// parts read here, so a full XML parser is not needed; entities are decoded.
enum XMLFields {
    /// The text of the first `<name>…</name>` element, or `nil`.
    static func value(_ name: String, in document: String) -> String? {
        guard let open = document.range(of: "<\(name)>"),
            let close = document.range(of: "</\(name)>", range: open.upperBound..<document.endIndex)
        else { return nil }
        return decodeEntities(String(document[open.upperBound..<close.lowerBound]))
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
