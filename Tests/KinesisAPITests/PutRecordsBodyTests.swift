import Backoff
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import KinesisAPI

@Suite("PutRecordsBody")
struct PutRecordsBodyTests {
    static func text(_ entries: [PutRecordsEntry], _ stream: StreamIdentifier) -> String {
        String(buffer: PutRecordsBody.encode(entries, stream: stream))
    }

    @Test("the reference body, byte for byte")
    func referenceBody() {
        let body = Self.text([PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1")], .name("my-stream"))
        #expect(body == #"{"Records":[{"Data":"aGVsbG8=","PartitionKey":"pk-1"}],"StreamName":"my-stream"}"#)
    }

    @Test("ExplicitHashKey follows PartitionKey inside its record; StreamARN follows StreamName")
    func explicitHashKeyAndARN() {
        let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/my-stream"
        let entries = [
            PutRecordsEntry(data: [0x78], partitionKey: "k", explicitHashKey: "340282366920938463463374607431768211455"),
            PutRecordsEntry(data: [], partitionKey: "k2"),
        ]
        #expect(
            Self.text(entries, StreamIdentifier(name: "s", arn: arn))
                == #"{"Records":[{"Data":"eA==","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211455"},"#
                + #"{"Data":"","PartitionKey":"k2"}],"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/my-stream"}"#
        )
        #expect(
            Self.text([entries[1]], .arn(arn))
                == #"{"Records":[{"Data":"","PartitionKey":"k2"}],"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/my-stream"}"#
        )
    }

    @Test("write appends to a buffer that already holds bytes")
    func appends() {
        var buffer = ByteBuffer(string: "prefix")
        PutRecordsBody.write([PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1")], stream: .name("my-stream"), into: &buffer)
        #expect(String(buffer: buffer) == #"prefix{"Records":[{"Data":"aGVsbG8=","PartitionKey":"pk-1"}],"StreamName":"my-stream"}"#)
    }

    static let oddKeys: [String] = [
        #"quote " inside"#,
        #"back\slash"#,
        #"\""#,
        "new\nline\r\ttab",
        "\u{0}\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}\u{1f}",
        "\u{7f}del",
        "ü-ключ-🙂",
        "日本語のキー",
        "line\u{2028}separator\u{2029}",
        "/slash/",
        "tab\tand \"both\" \\ mixed\u{1}",
    ]

    @Test("JSON escaping: the partition key survives a JSON parser", arguments: oddKeys)
    func escaping(key: String) throws {
        let stream = StreamIdentifier(name: "s\"t\\r", arn: "arn:aws:kinesis:us-east-1:123456789012:stream/\(key)")
        let buffer = PutRecordsBody.encode([PutRecordsEntry(data: [1, 2, 3], partitionKey: key, explicitHashKey: key)], stream: stream)
        let bytes = Array(buffer.readableBytesView)
        // No raw control characters may appear in a JSON document.
        #expect(!bytes.contains { $0 < 0x20 })
        let object = try jsonObject(bytes)
        let records = try #require(object["Records"] as? [[String: Any]])
        #expect(records.count == 1)
        #expect(records.first?["PartitionKey"] as? String == key)
        #expect(records.first?["ExplicitHashKey"] as? String == key)
        #expect(records.first?["Data"] as? String == "AQID")
        #expect(object["StreamName"] as? String == "s\"t\\r")
        #expect(object["StreamARN"] as? String == stream.arn)
        #expect(PutRecordsBody.encodedSize(of: [PutRecordsEntry(data: [1, 2, 3], partitionKey: key, explicitHashKey: key)], stream: stream) == bytes.count)
    }

    @Test("control characters use the short escapes or \\u00XX")
    func escapeForms() {
        let body = Self.text([PutRecordsEntry(data: [], partitionKey: "\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}")], .name("s"))
        #expect(body == #"{"Records":[{"Data":"","PartitionKey":"\"\\\n\r\t\b\f\u0000\u001f"}],"StreamName":"s"}"#)
    }

    static func randomKey(using generator: inout SplitMix64) -> String {
        let alphabet: [Character] = [
            "a", "Z", "0", "-", "_", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{c}", "\u{1f}",
            "\u{7f}", "é", "ü", "ж", "日", "🙂", "\u{2028}", "{", "}", ":", ",",
        ]
        let length = Int.random(in: 1...24, using: &generator)
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Test("encodedSize equals the bytes written, and the body round-trips, for random batches", arguments: [1, 2, 3, 42, 1234])
    func encodedSizeMatches(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for _ in 0..<50 {
            let count = Int.random(in: 1...20, using: &generator)
            let entries = (0..<count).map { _ -> PutRecordsEntry in
                let data = [UInt8].random(count: Int.random(in: 0...50, using: &generator), using: &generator)
                let ehk = Bool.random(using: &generator) ? String(UInt64.random(in: 0...UInt64.max, using: &generator)) : nil
                return PutRecordsEntry(data: data, partitionKey: Self.randomKey(using: &generator), explicitHashKey: ehk)
            }
            let stream: StreamIdentifier
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: stream = .name(Self.randomKey(using: &generator))
            case 1: stream = .arn("arn:aws:kinesis:us-east-1:123456789012:stream/" + Self.randomKey(using: &generator))
            default: stream = StreamIdentifier(name: "n", arn: "arn:aws:kinesis:us-east-1:123456789012:stream/n")
            }
            let buffer = PutRecordsBody.encode(entries, stream: stream)
            #expect(PutRecordsBody.encodedSize(of: entries, stream: stream) == buffer.readableBytes)

            let object = try jsonObject(buffer.readableBytesView)
            let records = try #require(object["Records"] as? [[String: Any]])
            try #require(records.count == entries.count)
            for (record, entry) in zip(records, entries) {
                #expect(record["PartitionKey"] as? String == entry.partitionKey)
                #expect(record["ExplicitHashKey"] as? String == entry.explicitHashKey)
                let data = try #require(record["Data"] as? String)
                #expect(Data(base64Encoded: data).map(Array.init) == entry.data)
            }
            #expect(object["StreamName"] as? String == stream.name)
            #expect(object["StreamARN"] as? String == stream.arn)
        }
    }

    @Test("encodedSize of an empty batch matches too")
    func emptyBatchSize() {
        let buffer = PutRecordsBody.encode([PutRecordsEntry](), stream: .name("s"))
        #expect(String(buffer: buffer) == #"{"Records":[],"StreamName":"s"}"#)
        #expect(PutRecordsBody.encodedSize(of: [PutRecordsEntry](), stream: .name("s")) == buffer.readableBytes)
    }

    @Test("base64 matches Foundation for every length 0…64")
    func base64MatchesFoundation() {
        var generator = SplitMix64(seed: 0xBA5E64)
        for length in 0...64 {
            for _ in 0..<4 {
                let bytes = [UInt8].random(count: length, using: &generator)
                var buffer = ByteBuffer()
                buffer.writeBase64(bytes)
                #expect(String(buffer: buffer) == Data(bytes).base64EncodedString(), "length \(length)")
                // And the same inside a PutRecords body.
                let body = String(buffer: PutRecordsBody.encode([PutRecordsEntry(data: bytes, partitionKey: "k")], stream: .name("s")))
                #expect(body.contains(#"{"Data":""# + Data(bytes).base64EncodedString() + #"","#), "length \(length)")
            }
        }
        // Every byte value, in every position of a 3-byte group.
        let all = (0...255).map { UInt8($0) }
        for shift in 0..<3 {
            let bytes = Array(all.dropFirst(shift))
            var buffer = ByteBuffer()
            buffer.writeBase64(bytes)
            #expect(String(buffer: buffer) == Data(bytes).base64EncodedString())
        }
    }
}
