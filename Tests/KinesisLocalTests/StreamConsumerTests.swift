import Foundation
import KinesisLocal
import Testing
import TestSupport

/// Enhanced fan-out consumers: registration, lookup by ARN or by stream and name, listing in pages, limits.
@Suite("KinesisLocal stream consumers")
struct StreamConsumerTests {
    static let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"

    @Test("register, describe (by ARN and by name), list, deregister; the summary counts them")
    func lifecycle() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let registered = try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "reader"])
            #expect(registered.status == 200, "\(registered.body)")
            let consumer = try #require(registered.object?["Consumer"] as? [String: Any])
            let consumerARN = try #require(consumer["ConsumerARN"] as? String)
            #expect(consumerARN.hasPrefix(Self.arn + "/consumer/reader:"))
            #expect(consumer["ConsumerStatus"] as? String == "CREATING")
            #expect(consumer["ConsumerCreationTimestamp"] is Double || consumer["ConsumerCreationTimestamp"] is Int)

            let byARN = try await call(server, "DescribeStreamConsumer", ["ConsumerARN": consumerARN])
            let description = try #require(byARN.object?["ConsumerDescription"] as? [String: Any], "\(byARN.body)")
            #expect(description["ConsumerStatus"] as? String == "ACTIVE")
            #expect(description["StreamARN"] as? String == Self.arn)
            let byName = try await call(server, "DescribeStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "reader"])
            #expect((byName.object?["ConsumerDescription"] as? [String: Any])?["ConsumerARN"] as? String == consumerARN)

            let duplicate = try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "reader"])
            #expect(duplicate.errorType == "ResourceInUseException")
            #expect(try await StreamSettingsTests.summary(server)["ConsumerCount"] as? Int == 1)

            let deleteRefused = try await call(server, "DeleteStream", ["StreamName": "s"])
            #expect(deleteRefused.errorType == "ResourceInUseException", "a stream with consumers was deleted without EnforceConsumerDeletion")

            #expect(try await call(server, "DeregisterStreamConsumer", ["ConsumerARN": consumerARN]).status == 200)
            let gone = try await call(server, "DescribeStreamConsumer", ["ConsumerARN": consumerARN])
            #expect(gone.errorType == "ResourceNotFoundException")
            #expect(try await StreamSettingsTests.summary(server)["ConsumerCount"] as? Int == 0)
        }
    }

    @Test("ListStreamConsumers pages by MaxResults with NextToken; 20 per stream at most; names are checked")
    func listingAndLimits() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            for index in 0..<20 {
                #expect(try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "c\(index)"]).status == 200)
            }
            let over = try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "c20"])
            #expect(over.errorType == "LimitExceededException", "\(over.body)")
            var names: [String] = []
            var token: String?
            var pages = 0
            repeat {
                var members: [String: Any] = ["StreamARN": Self.arn, "MaxResults": 7]
                if let token { members["NextToken"] = token }
                let page = try await call(server, "ListStreamConsumers", members)
                #expect(page.status == 200, "\(page.body)")
                names += (page.object?["Consumers"] as? [[String: Any]] ?? []).compactMap { $0["ConsumerName"] as? String }
                token = page.object?["NextToken"] as? String
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 3)
            #expect(names == (0..<20).map { "c\($0)" })
            let forged = try await call(server, "ListStreamConsumers", ["StreamARN": Self.arn, "NextToken": "bm9wZQ=="])
            #expect(forged.errorType == "InvalidArgumentException")
            let badName = try await call(server, "RegisterStreamConsumer", ["StreamARN": Self.arn, "ConsumerName": "has space"])
            #expect(badName.errorType == "ValidationException")
            let noStream = try await call(server, "RegisterStreamConsumer", ["StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/none", "ConsumerName": "c"])
            #expect(noStream.errorType == "ResourceNotFoundException")
            let neither = try await call(server, "DescribeStreamConsumer", ["ConsumerName": "c1"])
            #expect(neither.errorType == "InvalidArgumentException")
            // EnforceConsumerDeletion takes the stream and its consumers.
            #expect(try await call(server, "DeleteStream", ["StreamName": "s", "EnforceConsumerDeletion": true]).status == 200)
        }
    }
}
