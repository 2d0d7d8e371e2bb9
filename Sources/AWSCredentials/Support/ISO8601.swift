import Foundation

/// Parses the ISO-8601 timestamps credential sources send: `2021-08-03T15:42:17Z`, with or without fractional
/// seconds, or with a numeric offset.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: trimmed) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: trimmed)
    }

    /// Parses an optional expiry; a value that is present but unreadable is an error naming `source` (never "does
    /// not expire"): a configuration error by default, `fetchFailed` for an answer that may be right next time.
    static func expiration(
        _ text: String?,
        source: String,
        provider: String,
        code: CredentialProviderError.Code = .invalidConfiguration
    ) throws -> Date? {
        guard let text else { return nil }
        guard let date = parse(text) else {
            throw CredentialProviderError(
                code,
                provider: provider,
                message: "\(source) '\(text)' is not an ISO-8601 timestamp"
            )
        }
        return date
    }
}
