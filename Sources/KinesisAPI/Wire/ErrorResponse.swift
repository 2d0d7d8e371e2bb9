import Foundation
import NIOCore
import NIOHTTP1

/// Turns a non-200 answer into a ``KinesisError``, following botocore's rules: the code is `__type` (anything from
/// the first `:` cut, only the part after the last `#` kept), the message `message` or `Message`; failing that the
/// `X-Amzn-ErrorType` header, an XML `<Code>` (moto, STS-style gateways), then the HTTP status. A source that gives
/// an empty code counts as absent.
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
            code: KinesisError.Code(rawValue: finalCode),
            message: message ?? "",
            operation: operation,
            httpStatus: Int(status.code),
            requestID: requestID
        )
        error.serverDate = headers.first(name: "Date").flatMap(parseHTTPDate)
        return error
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
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
