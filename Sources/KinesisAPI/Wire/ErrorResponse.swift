import Foundation
import NIOCore
import NIOHTTP1

/// Turns a non-200 answer into a ``KinesisError``, following botocore's rules: the code is `__type` (anything from
/// the first `:` cut, only the part after the last `#` kept), the message `message` or `Message`; failing that the
/// `X-Amzn-ErrorType` header, an XML `<Code>` (moto, STS-style gateways), then the HTTP status. A source that gives
/// an empty code counts as absent. Code, message and request id are capped at about 1 KiB (``AnswerText``).
package enum ErrorResponse {
    package static func decode(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, operation: String) -> KinesisError {
        let requestID = headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id")
        var code: String?
        var message: String?

        if let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] {
            if let type = (object["__type"] as? String) ?? (object["code"] as? String) {
                code = named(normalize(type))
            }
            message = (object["message"] as? String) ?? (object["Message"] as? String)
        }
        if code == nil, let header = headers.first(name: "X-Amzn-ErrorType") {
            code = named(normalize(header))
        }
        let text = String(buffer: body)
        if code == nil, text.contains("<Code>") {
            code = named(xmlValue("Code", in: text))
            message = message ?? xmlValue("Message", in: text)
        }
        let finalCode = code ?? httpCode(status)
        if message == nil {
            let snippet = text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
            message = snippet.isEmpty
                ? "HTTP \(status.code) \(status.reasonPhrase) with an empty body"
                : "HTTP \(status.code) \(status.reasonPhrase), body is not a Kinesis error: \(snippet)"
        }
        var error = KinesisError(
            code: KinesisError.Code(rawValue: AnswerText.capped(finalCode)),
            message: AnswerText.capped(message ?? ""),
            operation: operation,
            httpStatus: Int(status.code),
            requestID: AnswerText.capped(requestID)
        )
        error.serverDate = headers.first(name: "Date").flatMap(parseHTTPDate)
        return error
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, the form HTTP servers send; a real date from 1970 on), read by
    /// hand: Foundation's `DateFormatter` traps on some malformed text (a combining mark in the time), and no answer
    /// may crash us.
    static func parseHTTPDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 29, Array(bytes[3..<5]) == Array(", ".utf8), Array(bytes[25...]) == Array(" GMT".utf8),
            bytes[7] == 0x20, bytes[11] == 0x20, bytes[16] == 0x20, bytes[19] == 0x3A, bytes[22] == 0x3A,
            weekdays.contains(String(decoding: bytes[0..<3], as: UTF8.self)),
            let month = months.firstIndex(of: String(decoding: bytes[8..<11], as: UTF8.self)),
            let day = digits(bytes[5..<7]), let year = digits(bytes[12..<16]),
            let hour = digits(bytes[17..<19]), let minute = digits(bytes[20..<22]), let second = digits(bytes[23..<25]),
            year >= 1970, (1...daysInMonth(month, year: year)).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (March-based years, so leap days come last).
        let y = month < 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 10) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    private static let weekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The days of a month (`0` is January).
    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 1: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 3, 5, 8, 10: 30
        default: 31
        }
    }

    /// The decimal value of ASCII digits, or `nil` if any byte is not one.
    private static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    package static func normalize(_ type: String) -> String {
        var code = Substring(type)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }

    /// `nil` for an empty code, so that the next source is tried.
    private static func named(_ code: String?) -> String? {
        code?.isEmpty == false ? code : nil
    }

    private static func httpCode(_ status: HTTPResponseStatus) -> String {
        switch status.code {
        case 429: "TooManyRequestsException"
        case 500: "InternalFailure"
        case 502, 503, 504: "ServiceUnavailable"
        default: "HTTP\(status.code)"
        }
    }

    private static func xmlValue(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
