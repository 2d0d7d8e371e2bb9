import AsyncHTTPClient
import AWSSigning
import Foundation
import KinesisAPI
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@testable import KinesisLocal

/// SubscribeToShard's event stream, read as raw HTTP: every message's framing and checksums, the records pushed as
/// they arrive, the end of the subscription, and its refusals.
@Suite("KinesisLocal SubscribeToShard")
struct SubscribeToShardTests {
    static let streamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"

    /// One decoded event-stream message.
    struct Message {
        var headers: [String: String]
        var json: [String: Any]
    }

    /// Splits `bytes` into messages, checking each length and both CRCs; what is left is an incomplete message.
    static func decode(_ bytes: inout [UInt8]) throws -> [Message] {
        var messages: [Message] = []
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        while bytes.count >= 12 {
            let total = Int(u32(0))
            let headersLength = Int(u32(4))
            guard bytes.count >= total else { break }
            #expect(u32(8) == CRC32.checksum(bytes[0..<8]), "prelude CRC")
            #expect(u32(total - 4) == CRC32.checksum(bytes[0..<total - 4]), "message CRC")
            var headers: [String: String] = [:]
            var at = 12
            while at < 12 + headersLength {
                let nameLength = Int(bytes[at])
                let name = String(decoding: bytes[at + 1..<at + 1 + nameLength], as: UTF8.self)
                at += 1 + nameLength
                #expect(bytes[at] == 7, "header \(name) is not a string")
                let valueLength = Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
                headers[name] = String(decoding: bytes[at + 3..<at + 3 + valueLength], as: UTF8.self)
                at += 3 + valueLength
            }
            let payload = Data(bytes[12 + headersLength..<total - 4])
            let json = try JSONSerialization.jsonObject(with: payload) as? [String: Any] ?? [:]
            messages.append(Message(headers: headers, json: json))
            bytes.removeFirst(total)
        }
        return messages
    }

    /// Subscribes and collects messages until the stream ends or `until` says enough.
    static func subscribe(
        _ server: KinesisLocal,
        consumerARN: String,
        shard: String = "shardId-000000000000",
        position: [String: Any] = ["Type": "TRIM_HORIZON"],
        until: @escaping ([Message]) -> Bool = { _ in false }
    ) async throws -> (status: Int, contentType: String?, messages: [Message]) {
        let body = try JSONSerialization.data(withJSONObject: ["ConsumerARN": consumerARN, "ShardId": shard, "StartingPosition": position])
        let url = try #require(URL(string: server.endpoint))
        var headers: [(name: String, value: String)] = [
            ("Host", "\(url.host!):\(url.port!)"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.SubscribeToShard"),
        ]
        let signature = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
            method: "POST",
            headers: headers,
            payloadHash: body.withUnsafeBytes { SigV4Signer.payloadHash($0) },
            credentials: TestKeys.example,
            date: Date()
        )
        headers += signature.headersToAdd
        var request = HTTPClientRequest(url: server.endpoint + "/")
        request.method = .POST
        request.headers = HTTPHeaders(headers)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var pending: [UInt8] = []
        var messages: [Message] = []
        for try await chunk in response.body {
            pending += Array(chunk.readableBytesView)
            messages += try decode(&pending)
            if until(messages) { break }
        }
        if !until(messages) { #expect(pending.isEmpty, "the stream ended inside a message") }
        return (Int(response.status.code), response.headers.first(name: "Content-Type"), messages)
    }

    static func register(_ server: KinesisLocal, _ name: String = "fan-out") async throws -> String {
        let answer = try await call(server, "RegisterStreamConsumer", ["StreamARN": streamARN, "ConsumerName": name])
        return try #require((answer.object?["Consumer"] as? [String: Any])?["ConsumerARN"] as? String, "\(answer.body)")
    }

    static func records(_ messages: [Message]) -> [String] {
        messages.flatMap { ($0.json["Records"] as? [[String: Any]] ?? []).compactMap { $0["PartitionKey"] as? String } }
    }

    @Test("the stream starts with initial-response, pushes stored and new records in order, and ends after its lifetime")
    func pushesRecords() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)], subscriptionLifetime: .seconds(3))) { server in
            let consumer = try await Self.register(server)
            _ = try await call(server, "PutRecords", ["StreamName": "s", "Records": [["Data": "AQ==", "PartitionKey": "a"], ["Data": "Ag==", "PartitionKey": "b"]]])
            let writer = Task {
                try await Task.sleep(for: .milliseconds(700))
                _ = try await call(server, "PutRecord", ["StreamName": "s", "Data": "Aw==", "PartitionKey": "c"])
            }
            let (status, contentType, messages) = try await Self.subscribe(server, consumerARN: consumer)
            try await writer.value
            #expect(status == 200)
            #expect(contentType == "application/vnd.amazon.eventstream")
            #expect(messages.first?.headers[":event-type"] == "initial-response")
            let events = messages.dropFirst()
            #expect(events.allSatisfy { $0.headers[":event-type"] == "SubscribeToShardEvent" && $0.headers[":message-type"] == "event" })
            #expect(Self.records(Array(events)) == ["a", "b", "c"])
            let first = try #require(events.first?.json["Records"] as? [[String: Any]])
            #expect(first.first?["Data"] as? String == "AQ==")
            // Each event's continuation is its last record's sequence number; every event has one.
            for event in events {
                let continuation = try #require(event.json["ContinuationSequenceNumber"] as? String)
                if let last = (event.json["Records"] as? [[String: Any]])?.last {
                    #expect(continuation == last["SequenceNumber"] as? String)
                }
                #expect(event.json["MillisBehindLatest"] is Int)
            }
        }
    }

    @Test("AFTER_SEQUENCE_NUMBER of an event's continuation resumes after it; LATEST sends only what comes next")
    func positions() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)], subscriptionLifetime: .seconds(1))) { server in
            let consumer = try await Self.register(server)
            _ = try await call(server, "PutRecord", ["StreamName": "s", "Data": "AQ==", "PartitionKey": "one"])
            let first = try await Self.subscribe(server, consumerARN: consumer)
            let continuation = try #require(first.messages.last?.json["ContinuationSequenceNumber"] as? String)
            _ = try await call(server, "PutRecord", ["StreamName": "s", "Data": "Ag==", "PartitionKey": "two"])
            // Another consumer: AWS refuses the same one a new subscription within 5 s.
            let again = try await Self.register(server, "again")
            let resumed = try await Self.subscribe(server, consumerARN: again, position: ["Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation])
            #expect(Self.records(resumed.messages) == ["two"])

            let other = try await Self.register(server, "latest")
            let writer = Task {
                try await Task.sleep(for: .milliseconds(400))
                _ = try await call(server, "PutRecord", ["StreamName": "s", "Data": "Aw==", "PartitionKey": "three"])
            }
            let latest = try await Self.subscribe(server, consumerARN: other, position: ["Type": "LATEST"])
            try await writer.value
            #expect(Self.records(latest.messages) == ["three"])
        }
    }

    @Test("a closed shard's last event carries its children and ends the stream")
    func childShards() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let consumer = try await Self.register(server)
            _ = try await call(server, "PutRecord", ["StreamName": "s", "Data": "AQ==", "PartitionKey": "before"])
            try server.reshard(stream: "s", shardCount: 2)
            let (_, _, messages) = try await Self.subscribe(server, consumerARN: consumer)
            #expect(Self.records(messages) == ["before"])
            let children = try #require(messages.last?.json["ChildShards"] as? [[String: Any]])
            #expect(children.compactMap { $0["ShardId"] as? String } == ["shardId-000000000001", "shardId-000000000002"])
        }
    }

    @Test("refusals: an unknown consumer or shard, a bad position, a second subscription within 5 s; a deregistered consumer ends the stream")
    func refusals() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)], subscriptionLifetime: .seconds(30))) { server in
            let consumer = try await Self.register(server)
            let unknown = try await call(server, "SubscribeToShard", ["ConsumerARN": Self.streamARN + "/consumer/none:1", "ShardId": "shardId-000000000000", "StartingPosition": ["Type": "LATEST"]])
            #expect(unknown.errorType == "ResourceNotFoundException", "\(unknown.body)")
            let badShard = try await call(server, "SubscribeToShard", ["ConsumerARN": consumer, "ShardId": "shardId-000000000009", "StartingPosition": ["Type": "LATEST"]])
            #expect(badShard.errorType == "ResourceNotFoundException")
            let badType = try await call(server, "SubscribeToShard", ["ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": ["Type": "SOMEWHERE"]])
            #expect(badType.errorType == "ValidationException")

            let stream = Task {
                let messages = try await Self.subscribe(server, consumerARN: consumer) { messages in
                    messages.contains { $0.headers[":message-type"] == "exception" }
                }.messages
                return messages.last?.headers[":exception-type"]
            }
            try await Task.sleep(for: .milliseconds(500))
            let second = try await call(server, "SubscribeToShard", ["ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": ["Type": "LATEST"]])
            #expect(second.errorType == "ResourceInUseException", "\(second.body)")
            #expect(try await call(server, "DeregisterStreamConsumer", ["ConsumerARN": consumer]).status == 200)
            #expect(try await stream.value == "ResourceNotFoundException")
        }
    }

    @Test("CRC-32 is zlib's: the check value of \"123456789\" and of nothing")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }
}
