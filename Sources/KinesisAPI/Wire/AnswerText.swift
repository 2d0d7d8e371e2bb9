/// Text copied out of an answer into errors (error codes, messages, request ids) is kept to about 1 KiB.
///
/// A hostile or broken endpoint may send a megabyte of message for every record; each failed record carries
/// its error through retries, outcomes and logs, so an uncapped message would be copied hundreds of times.
package enum AnswerText {
    /// The most UTF-8 bytes kept of one text.
    package static let maxBytes = 1024

    /// `text`, or its first bytes up to ``maxBytes`` cut at a character's scalar boundary and marked as cut.
    package static func capped(_ text: String) -> String {
        let utf8 = text.utf8
        let count = utf8.count
        guard count > maxBytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: maxBytes)
        while end > utf8.startIndex, UTF8.isContinuation(utf8[end]) { utf8.formIndex(before: &end) }
        return String(decoding: utf8[..<end], as: UTF8.self) + "… (truncated from \(count) bytes)"
    }

    /// ``capped(_:)`` for an optional text.
    package static func capped(_ text: String?) -> String? {
        text.map { capped($0) }
    }
}
