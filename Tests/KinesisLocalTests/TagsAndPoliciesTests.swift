import Foundation
import KinesisLocal
import Testing
import TestSupport

/// Tags on streams (by name or ARN) and on consumers (by resource ARN), and resource policies.
@Suite("KinesisLocal tags and resource policies")
struct TagsAndPoliciesTests {
    static let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"

    static func tags(_ answer: RawAnswer) -> [String: String] {
        var result: [String: String] = [:]
        for tag in answer.object?["Tags"] as? [[String: String]] ?? [] { result[tag["Key"]!] = tag["Value"] ?? "" }
        return result
    }

    @Test("stream tags: added at creation and later, listed in key order and in pages, removed; the resource API sees the same")
    func streamTags() async throws {
        try await withServer { server in
            #expect(try await call(server, "CreateStream", ["StreamName": "s", "ShardCount": 1, "Tags": ["team": "data"]]).status == 200)
            #expect(try await call(server, "AddTagsToStream", ["StreamName": "s", "Tags": ["env": "test", "cost": "42", "team": "platform"]]).status == 200)
            let listed = try await call(server, "ListTagsForStream", ["StreamName": "s"])
            #expect((listed.object?["Tags"] as? [[String: String]])?.map { $0["Key"]! } == ["cost", "env", "team"])
            #expect(Self.tags(listed) == ["cost": "42", "env": "test", "team": "platform"])
            #expect(listed.object?["HasMoreTags"] as? Bool == false)
            let page = try await call(server, "ListTagsForStream", ["StreamName": "s", "Limit": 1, "ExclusiveStartTagKey": "cost"])
            #expect(Self.tags(page) == ["env": "test"])
            #expect(page.object?["HasMoreTags"] as? Bool == true)

            #expect(try await call(server, "RemoveTagsFromStream", ["StreamARN": Self.arn, "TagKeys": ["env", "absent"]]).status == 200)
            #expect(Self.tags(try await call(server, "ListTagsForResource", ["ResourceARN": Self.arn])) == ["cost": "42", "team": "platform"])
            #expect(try await call(server, "TagResource", ["ResourceARN": Self.arn, "Tags": ["owner": "me"]]).status == 200)
            #expect(try await call(server, "UntagResource", ["ResourceARN": Self.arn, "TagKeys": ["cost"]]).status == 200)
            #expect(Self.tags(try await call(server, "ListTagsForStream", ["StreamName": "s"])) == ["owner": "me", "team": "platform"])
        }
    }

    @Test("tag refusals: more than 50 on a stream, an aws: key, invalid characters, an empty list, a missing stream")
    func tagRefusals() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let fifty = Dictionary(uniqueKeysWithValues: (0..<50).map { ("k\($0)", "v") })
            #expect(try await call(server, "AddTagsToStream", ["StreamName": "s", "Tags": fifty]).status == 200)
            let over = try await call(server, "AddTagsToStream", ["StreamName": "s", "Tags": ["one-more": "v"]])
            #expect(over.errorType == "LimitExceededException")
            #expect(over.message?.contains("cannot have more than 50 tags") == true, "\(over.body)")
            // Replacing an existing key does not add one.
            #expect(try await call(server, "AddTagsToStream", ["StreamName": "s", "Tags": ["k1": "new"]]).status == 200)
            let reserved = try await call(server, "TagResource", ["ResourceARN": Self.arn, "Tags": ["aws:owner": "x"]])
            #expect(reserved.errorType == "InvalidArgumentException")
            let invalid = try await call(server, "RemoveTagsFromStream", ["StreamName": "s", "TagKeys": ["bad<key>"]])
            #expect(invalid.errorType == "InvalidArgumentException")
            let empty = try await call(server, "RemoveTagsFromStream", ["StreamName": "s", "TagKeys": [String]()])
            #expect(empty.errorType == "ValidationException")
            let missing = try await call(server, "ListTagsForStream", ["StreamName": "nope"])
            #expect(missing.errorType == "ResourceNotFoundException")
            let missingTags = try await call(server, "AddTagsToStream", ["StreamName": "s"])
            #expect(missingTags.errorType == "ValidationException")
        }
    }

    @Test("resource policies on a stream and a consumer: put, get, delete; invalid JSON and unknown resources refused")
    func policies() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#
            #expect(try await call(server, "GetResourcePolicy", ["ResourceARN": Self.arn]).object?["Policy"] as? String == "{}")
            #expect(try await call(server, "PutResourcePolicy", ["ResourceARN": Self.arn, "Policy": policy]).status == 200)
            #expect(try await call(server, "GetResourcePolicy", ["ResourceARN": Self.arn]).object?["Policy"] as? String == policy)
            let bad = try await call(server, "PutResourcePolicy", ["ResourceARN": Self.arn, "Policy": "not json"])
            #expect(bad.errorType == "InvalidArgumentException")

            let consumer = try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "c"])
            let consumerARN = try #require((consumer.object?["Consumer"] as? [String: Any])?["ConsumerARN"] as? String)
            #expect(try await call(server, "PutResourcePolicy", ["ResourceARN": consumerARN, "Policy": "{}"]).status == 200)
            #expect(try await call(server, "TagResource", ["ResourceARN": consumerARN, "Tags": ["role": "reader"]]).status == 200)
            #expect(Self.tags(try await call(server, "ListTagsForResource", ["ResourceARN": consumerARN])) == ["role": "reader"])
            #expect(Self.tags(try await call(server, "ListTagsForResource", ["ResourceARN": Self.arn])).isEmpty, "consumer tags leaked onto the stream")

            #expect(try await call(server, "DeleteResourcePolicy", ["ResourceARN": Self.arn]).status == 200)
            #expect(try await call(server, "GetResourcePolicy", ["ResourceARN": Self.arn]).object?["Policy"] as? String == "{}")
            let twice = try await call(server, "DeleteResourcePolicy", ["ResourceARN": Self.arn])
            #expect(twice.errorType == "ResourceNotFoundException")
            let unknownConsumer = try await call(server, "GetResourcePolicy", ["ResourceARN": Self.arn + "/consumer/other:1"])
            #expect(unknownConsumer.errorType == "ResourceNotFoundException")
            let unknownStream = try await call(server, "GetResourcePolicy", ["ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/none"])
            #expect(unknownStream.errorType == "ResourceNotFoundException")
        }
    }
}
