import Foundation
import KinesisAPI
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@testable import KinesisLocal

/// Kinesis over CBOR as the AWS SDK for Java v2 speaks it: indefinite maps and arrays (Jackson's generator), blobs
/// as byte strings, timestamps as tag 1 on epoch milliseconds; answers in CBOR with the same conventions.
@Suite("KinesisLocal CBOR")
struct CBORTests {
    // A tiny CBOR writer for the tests, shaped like Jackson's output.
    static func text(_ string: String) -> [UInt8] { head(3, UInt64(string.utf8.count)) + Array(string.utf8) }
    static func bytes(_ data: [UInt8]) -> [UInt8] { head(2, UInt64(data.count)) + data }
    static func int(_ value: UInt64) -> [UInt8] { head(0, value) }
    static func indefiniteMap(_ members: [(String, [UInt8])]) -> [UInt8] {
        [0xBF] + members.flatMap { text($0.0) + $0.1 } + [0xFF]
    }
    static func indefiniteArray(_ items: [[UInt8]]) -> [UInt8] { [0x9F] + items.flatMap { $0 } + [0xFF] }
    static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        var out = ByteBuffer()
        CBORTranscoder.writeHead(major: major, value, into: &out)
        return Array(out.readableBytesView)
    }

    static func json(_ cbor: [UInt8]) throws -> Any {
        let converted = try CBORTranscoder.json(fromCBOR: ByteBuffer(bytes: cbor))
        return try JSONSerialization.jsonObject(with: Data(converted.readableBytesView), options: [.fragmentsAllowed])
    }

    @Test("requests: indefinite maps and arrays, byte strings to base64, tag-1 milliseconds to seconds, chunked strings")
    func requestToJSON() throws {
        let body = Self.indefiniteMap([
            ("StreamName", Self.text("s")),
            ("Records", Self.indefiniteArray([Self.indefiniteMap([("Data", Self.bytes([0, 1, 2, 255])), ("PartitionKey", Self.text("k"))])])),
            ("Timestamp", [0xC1] + Self.head(0, 1_700_000_000_123)),
            ("Limit", Self.int(500)),
            ("Negative", [0x38, 0x63]),  // -100
            ("Chunked", [0x7F] + Self.text("ab") + Self.text("cd") + [0xFF]),
            ("Flag", [0xF5]),
            ("Half", [0xF9, 0x3E, 0x00]),  // 1.5
        ])
        let object = try #require(try Self.json(body) as? [String: Any])
        #expect(object["StreamName"] as? String == "s")
        let record = try #require((object["Records"] as? [[String: Any]])?.first)
        #expect(record["Data"] as? String == Data([0, 1, 2, 255]).base64EncodedString())
        #expect((object["Timestamp"] as? NSNumber)?.doubleValue == 1_700_000_000.123)
        #expect(object["Limit"] as? Int == 500)
        #expect(object["Negative"] as? Int == -100)
        #expect(object["Chunked"] as? String == "abcd")
        #expect(object["Flag"] as? Bool == true)
        #expect((object["Half"] as? NSNumber)?.doubleValue == 1.5)
    }

    @Test("malformed CBOR is refused with a reason: truncated, unclosed, a non-text key, a reserved length, too deep")
    func malformed() {
        for bad: [UInt8] in [[0xBF, 0x61], [0xBF], [0xA1, 0x01, 0x02], [0x1C], Array(repeating: 0x81, count: 600) + [0x00], [0x62, 0xFF, 0xFE]] {
            #expect(throws: CBORTranscoder.Failure.self, "\(bad.prefix(4))") { _ = try CBORTranscoder.json(fromCBOR: ByteBuffer(bytes: bad)) }
        }
    }

    @Test("answers: Data as a byte string, timestamps as tag 1 on milliseconds, integers as integers, definite lengths")
    func answerToCBOR() throws {
        let json = #"{"Records":[{"Data":"AAEC/w==","ApproximateArrivalTimestamp":1700000000.123,"SequenceNumber":"49"}],"MillisBehindLatest":0,"Ratio":0.5,"More":false}"#
        let cbor = Array(try CBORTranscoder.cbor(fromJSON: ByteBuffer(string: json)).readableBytesView)
        // Back to JSON through the request path: the same values.
        let object = try #require(try Self.json(cbor) as? [String: Any])
        let record = try #require((object["Records"] as? [[String: Any]])?.first)
        #expect(record["Data"] as? String == "AAEC/w==")
        #expect((record["ApproximateArrivalTimestamp"] as? NSNumber)?.doubleValue == 1_700_000_000.123)
        #expect(object["Ratio"] as? Double == 0.5)
        #expect(object["More"] as? Bool == false)
        // The byte string and the tag are in the bytes themselves.
        #expect(cbor.first == 0xA4, "a definite map of 4")
        #expect(cbor.windowed(Self.bytes([0, 1, 2, 255])))
        #expect(cbor.windowed([0xC1] + Self.head(0, 1_700_000_000_123)))
    }

    @Test("a CBOR PutRecords and GetRecords over HTTP: stored bytes read back as a byte string, errors as CBOR")
    func overHTTP() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let put = Self.indefiniteMap([
                ("StreamName", Self.text("s")),
                ("Records", Self.indefiniteArray([Self.indefiniteMap([("Data", Self.bytes([9, 8, 7])), ("PartitionKey", Self.text("k"))])])),
            ])
            let putAnswer = try await rawKinesis(server.endpoint, operation: "PutRecords", body: ByteBuffer(bytes: put), contentType: "application/x-amz-cbor-1.1")
            #expect(putAnswer.status == 200)
            #expect(putAnswer.headers.first(name: "Content-Type") == "application/x-amz-cbor-1.1")
            let putResult = try #require(try Self.json(putAnswer.bytes) as? [String: Any])
            #expect(putResult["FailedRecordCount"] as? Int == 0)
            let stored = try server.storedRecords(stream: "s")
            #expect(stored.map(\.data) == [[9, 8, 7]])

            let missing = Self.indefiniteMap([("StreamName", Self.text("none")), ("ShardId", Self.text("shardId-000000000000")), ("ShardIteratorType", Self.text("LATEST"))])
            let error = try await rawKinesis(server.endpoint, operation: "GetShardIterator", body: ByteBuffer(bytes: missing), contentType: "application/x-amz-cbor-1.1")
            #expect(error.status == 400)
            #expect(error.headers.first(name: "X-Amzn-ErrorType") == "ResourceNotFoundException")
            let decoded = try #require(try Self.json(error.bytes) as? [String: Any])
            #expect(decoded["__type"] as? String == "ResourceNotFoundException")
        }
    }
}

extension Array where Element == UInt8 {
    /// Whether `part` occurs in this array.
    func windowed(_ part: [UInt8]) -> Bool {
        guard part.count <= count else { return false }
        return (0...(count - part.count)).contains { Array(self[$0..<$0 + part.count]) == part }
    }
}
