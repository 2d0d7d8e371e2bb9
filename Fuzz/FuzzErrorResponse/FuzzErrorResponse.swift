import Foundation
import FuzzSupport
import KinesisAPI
import NIOCore
import NIOHTTP1

/// The libFuzzer test for the error-answer decoder. Input: two bytes of HTTP status (100 to 599), then header lines
/// (`Name: value`, `\n`-separated) up to the first NUL byte, then the body; without a NUL all of it is the body.
///
/// Checks: the status, operation and request id (capped at 1 KiB, ``AnswerText``) are carried over; the code is
/// never empty; a JSON `__type` (or `code`) that names something gives the code cut from it with no namespace (`#`)
/// or suffix (`:`) left, capped, and its `message`, capped, is the message; a `Date` read is the header's date (Foundation writes it back the same); decoding the
/// same answer twice gives the same error.
func fuzzErrorResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard input.count >= 2 else { return 0 }
    let status = HTTPResponseStatus(statusCode: 100 + Int(UInt16(input[0]) << 8 | UInt16(input[1])) % 500)
    var rest = input.dropFirst(2)
    var headers = HTTPHeaders()
    if let nul = rest.firstIndex(of: 0) {
        for line in rest[..<nul].split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            // NIO's parser only produces ASCII names, and `HTTPHeaders.add` insists on them.
            guard let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy(\.isASCII) else { continue }
            headers.add(name: String(text[..<colon]), value: String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        rest = rest[(nul + 1)...]
    }
    let body = ByteBuffer(bytes: rest)

    let error = ErrorResponse.decode(status: status, headers: headers, body: body, operation: "PutRecords")
    check(error.httpStatus == Int(status.code), "status \(String(describing: error.httpStatus)) for \(status.code)")
    check(error.operation == "PutRecords")
    check(error.requestID == AnswerText.capped(headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id")))
    check(error.code.rawValue.utf8.count <= AnswerText.maxBytes + 48 && error.message.utf8.count <= AnswerText.maxBytes + 48, "texts not capped")
    check(!error.code.rawValue.isEmpty, "empty error code")
    if let object = try? JSONSerialization.jsonObject(with: Data(rest)) as? [String: Any],
        let type = (object["__type"] as? String) ?? (object["code"] as? String),
        !ErrorResponse.normalize(type).isEmpty
    {
        let code = error.code.rawValue
        check(code == AnswerText.capped(ErrorResponse.normalize(type)), "code \(code) is not cut from __type \(type)")
        check(!code.contains(":") && !code.contains("#"), "code \(code) keeps a namespace or suffix")
        if let message = (object["message"] as? String) ?? (object["Message"] as? String) {
            check(error.message == AnswerText.capped(message), "message \(error.message), body says \(message)")
        }
    }
    if let date = error.serverDate, let header = headers.first(name: "Date") {
        // Our reading of the date agrees with Foundation's writing of it (the weekday is not checked, nor leap seconds).
        check(header.utf8.count == 29 && header.hasSuffix(" GMT"), "a date from \(header.debugDescription)")
        if !header.contains(":60 ") {
            let written = httpDateFormatter().string(from: date)
            check(written.dropFirst(5) == header.dropFirst(5), "\(header) read as \(date), written back \(written)")
        }
    }
    let again = ErrorResponse.decode(status: status, headers: headers, body: body, operation: "PutRecords")
    check(again.code == error.code && again.message == error.message && again.serverDate == error.serverDate)
    return 0
}

/// Writes dates as `Sun, 06 Nov 1994 08:49:37 GMT`.
func httpDateFormatter() -> DateFormatter {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter
}
