import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import KinesisAPI

@Suite("Error decoding")
struct ErrorResponseTests {
    static func decode(_ status: Int, _ body: String, headers: [(String, String)] = []) -> KinesisError {
        ErrorResponse.decode(
            status: HTTPResponseStatus(statusCode: status),
            headers: HTTPHeaders(headers),
            body: ByteBuffer(string: body),
            operation: "PutRecords"
        )
    }

    @Test("__type with a namespace keeps only the part after the last #")
    func namespacedType() {
        let error = Self.decode(
            400,
            #"{"__type":"com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000001"}"#
        )
        #expect(error.code == .provisionedThroughputExceeded)
        #expect(error.message == "Rate exceeded for shard shardId-000000000001")
        #expect(error.httpStatus == 400)
        #expect(error.operation == "PutRecords")
        #expect(error.retryClass == .throttled)
    }

    @Test("__type with a :… suffix is cut at the first colon")
    func colonSuffix() {
        let error = Self.decode(
            400,
            #"{"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.service/","message":"Stream nope not found."}"#
        )
        #expect(error.code == .resourceNotFound)
        #expect(error.retryClass == .fatal)
        let plain = Self.decode(400, #"{"__type":"InvalidSignatureException:http://internal.amazon.com/x#y","message":"m"}"#)
        #expect(plain.code == .invalidSignature)
    }

    @Test("the Date header: IMF-fixdate read exactly, anything else ignored", arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777.0),
        ("Thu, 29 Feb 2024 23:59:60 GMT", 1_709_251_200.0),
        ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400.0),
        ("Sat, 01 Jan 2000 00:00:00 GMT", 946_684_800.0),
        ("Thu, 31 Dec 2026 12:00:00 GMT", 1_798_718_400.0),
    ])
    func httpDate(text: String, seconds: Double) {
        #expect(ErrorResponse.parseHTTPDate(text) == Date(timeIntervalSince1970: seconds))
    }

    /// Found by Fuzz/FuzzErrorResponse: Foundation's DateFormatter trapped ("Incorrect range") on this Date header,
    /// so an error answer could crash the client.
    @Test("a malformed Date header is ignored, never a crash")
    func malformedDate() {
        let crashed = Self.decode(
            400,
            #"{"__type": "InvalidSignatureException", "Message": "Signature expi- 5 min.)"}"#,
            headers: [("x-amzn-RequestId", "c9a5b1f4-6d2e-11ee-b962-0242ac120002"), ("Date", "Sun, 02 Nov 1994 08:\u{33F}:37 GMT")]
        )
        #expect(crashed.serverDate == nil)
        #expect(crashed.code == .invalidSignature)
        for text in [
            "", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37", "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:4x:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 31 Apr 2024 08:49:37 GMT", "Thu, 29 Feb 2023 08:49:37 GMT", "Mon, 01 Jan 1900 00:00:00 GMT",
        ] {
            #expect(ErrorResponse.parseHTTPDate(text) == nil, "\(text)")
        }
    }

    @Test("normalize", arguments: [
        ("ResourceNotFoundException", "ResourceNotFoundException"),
        ("com.amazonaws.kinesis.v20131202#LimitExceededException", "LimitExceededException"),
        ("a#b#ExpiredTokenException", "ExpiredTokenException"),
        ("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/", "ValidationException"),
        ("ns#AccessDeniedException:http://x#y", "AccessDeniedException"),
    ])
    func normalize(raw: String, expected: String) {
        #expect(ErrorResponse.normalize(raw) == expected)
    }

    @Test("message or Message")
    func messageCapitalisation() {
        #expect(Self.decode(400, #"{"__type":"AccessDeniedException","message":"lower"}"#).message == "lower")
        #expect(Self.decode(400, #"{"__type":"AccessDeniedException","Message":"upper"}"#).message == "upper")
        let both = Self.decode(400, #"{"__type":"AccessDeniedException","Message":"upper","message":"lower"}"#)
        #expect(both.message == "lower")
    }

    @Test("X-Amzn-ErrorType is used when the body has no __type")
    func headerType() {
        let error = Self.decode(
            400,
            #"{"message":"The security token included in the request is expired"}"#,
            headers: [("X-Amzn-ErrorType", "ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/")]
        )
        #expect(error.code == .expiredToken)
        #expect(error.message == "The security token included in the request is expired")
        #expect(error.retryClass == .refreshCredentials)

        // The body's __type wins over the header.
        let both = Self.decode(
            400,
            #"{"__type":"ResourceNotFoundException","message":"m"}"#,
            headers: [("x-amzn-errortype", "ExpiredTokenException")]
        )
        #expect(both.code == .resourceNotFound)

        // Header only, body empty.
        let empty = Self.decode(400, "", headers: [("x-amzn-ErrorType", "com.amazonaws.kinesis.v20131202#LimitExceededException")])
        #expect(empty.code == .limitExceeded)
        #expect(empty.retryClass == .throttled)
    }

    /// Found by Fuzz/FuzzErrorResponse: an empty `X-Amzn-ErrorType` header gave an error with an empty code.
    @Test("an empty __type, header or XML Code counts as absent: the next source, or the HTTP status, names the error")
    func emptyCodes() {
        let emptyHeader = Self.decode(400, "\u{1}ccessDo\u{84}naws.kinesis", headers: [("X-Amzn-ErrorType", "")])
        #expect(emptyHeader.code.rawValue == "HTTP400")
        #expect(emptyHeader.message.contains("body is not a Kinesis error"))

        let emptyType = Self.decode(400, #"{"__type":"","message":"m"}"#, headers: [("X-Amzn-ErrorType", "ThrottlingException")])
        #expect(emptyType.code.rawValue == "ThrottlingException")
        #expect(emptyType.message == "m")
        #expect(emptyType.retryClass == .throttled)

        #expect(Self.decode(500, #"{"__type":"com.amazonaws.kinesis.v20131202#:x"}"#).code == .internalFailure)
        #expect(Self.decode(400, #"{"__type":":"}"#, headers: [("X-Amzn-ErrorType", "#")]).code.rawValue == "HTTP400")
        let emptyXML = Self.decode(503, "<Error><Code></Code><Message>busy</Message></Error>")
        #expect(emptyXML.code.rawValue == "ServiceUnavailable")
        #expect(emptyXML.message == "busy")
    }

    @Test("an HTML 502 gives a clear message with the status and a snippet, and is transient")
    func html502() {
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>"
        let error = Self.decode(502, html, headers: [("Content-Type", "text/html")])
        #expect(error.httpStatus == 502)
        #expect(error.retryClass == .transient)
        #expect(error.code.rawValue == "ServiceUnavailable")
        #expect(error.message.contains("502"))
        #expect(error.message.contains("<title>502 Bad Gateway</title>"))
        #expect(error.description.contains("HTTP 502"))
        #expect(error.description.contains("Bad Gateway"))
    }

    @Test("a long non-JSON body is cut to a snippet")
    func longBodySnippet() {
        let body = "<html>" + String(repeating: "x", count: 10_000) + "</html>"
        let error = Self.decode(503, body)
        #expect(error.message.count < 400)
        #expect(error.message.contains("<html>xxx"))
        #expect(error.retryClass == .transient)
    }

    @Test("an empty 5xx body says so")
    func emptyBody() {
        let error = Self.decode(504, "")
        #expect(error.httpStatus == 504)
        #expect(error.retryClass == .transient)
        #expect(error.message.contains("504"))
        #expect(error.message.contains("empty"))
    }

    @Test("moto's XML SignatureDoesNotMatch yields that code")
    func motoXML() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>
            """
        let error = Self.decode(403, body, headers: [("Content-Type", "text/html; charset=utf-8"), ("x-amzn-requestid", "moto-req-1")])
        #expect(error.code.rawValue == "SignatureDoesNotMatch")
        #expect(error.message.hasPrefix("The request signature we calculated does not match"))
        #expect(error.httpStatus == 403)
        #expect(error.requestID == "moto-req-1")
        #expect(error.retryClass == .fatal)
        #expect(error.description.contains("SignatureDoesNotMatch"))
    }

    @Test("request id from x-amzn-RequestId")
    func requestID() {
        let error = Self.decode(
            400,
            #"{"__type":"ResourceNotFoundException","message":"m"}"#,
            headers: [("x-amzn-RequestId", "c0ffee00-1111-2222-3333-444455556666"), ("x-amz-id-2", "other")]
        )
        #expect(error.requestID == "c0ffee00-1111-2222-3333-444455556666")
        #expect(error.description.contains("request id c0ffee00-1111-2222-3333-444455556666"))
        #expect(Self.decode(400, "{}").requestID == nil)
    }

    @Test("no code anywhere falls back to the status")
    func statusFallback() {
        #expect(Self.decode(429, "").retryClass == .throttled)
        #expect(Self.decode(500, "{}").code == .internalFailure)
        #expect(Self.decode(500, "{}").retryClass == .transient)
        #expect(Self.decode(503, "oops").retryClass == .transient)
        let teapot = Self.decode(418, "{}")
        #expect(teapot.retryClass == .fatal)
        #expect(teapot.code.rawValue.contains("418"))
    }
}

@Suite("Error classification")
struct ErrorClassificationTests {
    @Test(
        "throttled",
        arguments: [
            "ProvisionedThroughputExceededException", "KMSThrottlingException", "LimitExceededException", "ThrottlingException",
            "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
        ]
    )
    func throttled(code: String) {
        #expect(KinesisError.classify(code: .init(rawValue: code), httpStatus: 400) == .throttled)
    }

    @Test("HTTP 429 is throttled whatever the code")
    func http429() {
        #expect(KinesisError.classify(code: "Whatever", httpStatus: 429) == .throttled)
    }

    @Test("transient", arguments: ["InternalFailure", "InternalFailureException", "ServiceUnavailable", "ResourceInUseException"])
    func transientCodes(code: String) {
        #expect(KinesisError.classify(code: .init(rawValue: code), httpStatus: 400) == .transient)
    }

    @Test("HTTP 500/502/503/504 are transient", arguments: [500, 502, 503, 504])
    func transientStatus(status: Int) {
        #expect(KinesisError.classify(code: "SomethingUnknown", httpStatus: status) == .transient)
    }

    @Test("ExpiredTokenException refreshes credentials")
    func expiredToken() {
        #expect(KinesisError.classify(code: .expiredToken, httpStatus: 400) == .refreshCredentials)
        #expect(KinesisError.RetryClass.refreshCredentials.isRetryable)
    }

    @Test(
        "fatal",
        arguments: [
            "ResourceNotFoundException", "AccessDeniedException", "ValidationException", "InvalidArgumentException",
            "InvalidSignatureException", "UnrecognizedClientException", "KMSDisabledException", "SignatureDoesNotMatch",
        ]
    )
    func fatal(code: String) {
        let retryClass = KinesisError.classify(code: .init(rawValue: code), httpStatus: 400)
        #expect(retryClass == .fatal)
        #expect(!retryClass.isRetryable)
        #expect(KinesisError.classify(code: .init(rawValue: code), httpStatus: 403) == .fatal)
    }

    @Test("client-side codes")
    func clientCodes() {
        #expect(KinesisError(code: .transport, message: "", operation: "X").retryClass == .transient)
        #expect(KinesisError(code: .timeout, message: "", operation: "X").retryClass == .transient)
        #expect(KinesisError(code: .invalidRequest, message: "", operation: "X").retryClass == .fatal)
    }
}
