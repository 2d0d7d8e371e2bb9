import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import Logging
import TestSupport
import Testing

@Suite("KinesisClient against a fake Kinesis")
struct KinesisClientTests {
    typealias Response = LoopbackHTTPServer.Response

    /// Canned answers for every operation the client has.
    static func cannedAnswer(_ request: LoopbackHTTPServer.Request) -> Response {
        switch FakeKinesis.operation(request) {
        case "DescribeStreamSummary":
            return FakeKinesis.ok(
                #"{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","StreamModeDetails":{"StreamMode":"ON_DEMAND"},"RetentionPeriodHours":24,"StreamCreationTimestamp":1.441215410867E9,"EnhancedMonitoring":[{"ShardLevelMetrics":[]}],"EncryptionType":"NONE","OpenShardCount":4,"ConsumerCount":0,"MaxRecordSizeInKiB":10240}}"#
            )
        case "DescribeStream":
            return FakeKinesis.ok(
                #"{"StreamDescription":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","Shards":[\#(FakeKinesis.shardJSON(0, start: "0", end: "340282366920938463463374607431768211455"))],"HasMoreShards":false,"RetentionPeriodHours":24,"StreamCreationTimestamp":1459799926,"EnhancedMonitoring":[]}}"#
            )
        case "ListShards":
            return FakeKinesis.ok(#"{"Shards":[\#(FakeKinesis.shardJSON(0, start: "0", end: "340282366920938463463374607431768211455"))]}"#)
        case "PutRecord":
            return FakeKinesis.ok(#"{"ShardId":"shardId-000000000000","SequenceNumber":"49590338271490256608559692538361571095921575989136588898","EncryptionType":"NONE"}"#)
        case "PutRecords":
            return FakeKinesis.ok(#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}"#)
        case "GetShardIterator":
            return FakeKinesis.ok(#"{"ShardIterator":"czpzaGFyZElkLTAwMDAwMDAwMDAwMDow\n"}"#)
        case "GetRecords":
            return FakeKinesis.ok(
                #"{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.441215410867E9,"Data":"AP8Q","PartitionKey":"k"}],"NextShardIterator":"next","MillisBehindLatest":0}"#
            )
        case "CreateStream", "DeleteStream":
            return FakeKinesis.ok("{}")
        default:
            return FakeKinesis.error(type: "UnknownOperationException", message: "unexpected \(request.header("X-Amz-Target") ?? "-")")
        }
    }

    /// Calls every operation once and returns the operation names in order.
    static func callEveryOperation(_ client: KinesisClient) async throws -> [String] {
        let stream = StreamIdentifier.name("s")
        try await client.createStream(name: "s", shardCount: 4, mode: .provisioned, tags: ["b": "2", "a": "1"])
        let summary = try await client.describeStreamSummary(stream: stream)
        #expect(summary.openShardCount == 4)
        #expect(summary.streamMode == "ON_DEMAND")
        #expect(summary.maxRecordSizeInKiB == 10240)
        #expect(summary.streamCreationTimestamp == Date(timeIntervalSince1970: 1_441_215_410.867))
        let description = try await client.describeStream(stream: stream)
        #expect(description.shards.count == 1)
        let shards = try await client.listShards(stream: stream, filter: .atLatest)
        #expect(shards.map(\.shardID) == ["shardId-000000000000"])
        let put = try await client.putRecord(
            PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1", explicitHashKey: "1"),
            stream: stream,
            sequenceNumberForOrdering: "7"
        )
        #expect(put.sequenceNumber == "49590338271490256608559692538361571095921575989136588898")
        let batch = try await client.putRecords([PutRecordsEntry(data: Array("hello".utf8), partitionKey: "pk-1")], stream: stream)
        #expect(batch.failedRecordCount == 0)
        let iterator = try await client.getShardIterator(stream: stream, shardID: "shardId-000000000000", position: .trimHorizon)
        #expect(iterator == "czpzaGFyZElkLTAwMDAwMDAwMDAwMDow\n")
        let records = try await client.getRecords(shardIterator: iterator, limit: 10)
        #expect(records.records.first?.data == [0x00, 0xFF, 0x10])
        #expect(records.records.first?.approximateArrivalTimestamp == Date(timeIntervalSince1970: 1_441_215_410.867))
        #expect(records.nextShardIterator == "next")
        try await client.deleteStream(stream: stream)
        return [
            "CreateStream", "DescribeStreamSummary", "DescribeStream", "ListShards", "PutRecord", "PutRecords",
            "GetShardIterator", "GetRecords", "DeleteStream",
        ]
    }

    @Test("every request: Host with port, X-Amz-Target, content type, SignedHeaders, and a signature that verifies")
    func requestShape() async throws {
        try await FakeKinesis.run(handler: { Self.cannedAnswer($0) }) { server, client in
            let operations = try await Self.callEveryOperation(client)
            let requests = server.requests
            #expect(requests.map { FakeKinesis.operation($0) } == operations)
            let dateStamp = String(try #require(requests.first?.header("X-Amz-Date")).prefix(8))
            for request in requests {
                #expect(request.method == "POST")
                #expect(request.uri == "/")
                #expect(request.headers.filter { $0.0.lowercased() == "host" }.map(\.1) == ["127.0.0.1:\(server.port)"])
                #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
                #expect(request.header("X-Amz-Target")?.hasPrefix("Kinesis_20131202.") == true)
                #expect(request.header("User-Agent") == "kinesis-pusher/0.1")
                #expect(request.header("x-amz-content-sha256") == nil)
                #expect(request.header("X-Amz-Security-Token") == nil)
                let authorization = try #require(request.header("Authorization"))
                #expect(
                    authorization.hasPrefix(
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\(dateStamp)/us-east-1/kinesis/aws4_request, "
                            + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
                    )
                )
                try FakeKinesis.verifySignature(request, credentials: TestKeys.example)
            }
        }
    }

    @Test("a tampered request does not verify (the check can fail)")
    func tamperedSignatureFails() async throws {
        try await FakeKinesis.run(handler: { Self.cannedAnswer($0) }) { server, client in
            _ = try await client.describeStreamSummary(stream: .name("s"))
            var request = try #require(server.requests.first)
            let authorization = try #require(request.header("Authorization"))
            let amzDate = try #require(request.header("X-Amz-Date"))
            let date = try #require(FakeKinesis.parseAmzDate(amzDate))
            let expected = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
                method: "POST",
                headers: [
                    ("content-type", "application/x-amz-json-1.1"), ("host", "127.0.0.1:\(server.port)"),
                    ("x-amz-target", "Kinesis_20131202.DescribeStreamSummary"),
                ],
                payloadHash: SigV4Signer.payloadHash(request.body),
                credentials: TestKeys.example,
                date: date
            )
            #expect(expected.authorization == authorization)
            // A different body or host gives a different signature.
            request.body = Array(#"{"StreamName":"t"}"#.utf8)
            let other = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
                method: "POST",
                headers: [
                    ("content-type", "application/x-amz-json-1.1"), ("host", "127.0.0.1"),
                    ("x-amz-target", "Kinesis_20131202.DescribeStreamSummary"),
                ],
                payloadHash: SigV4Signer.payloadHash(request.body),
                credentials: TestKeys.example,
                date: date
            )
            #expect(other.authorization != authorization)
        }
    }

    @Test("session credentials send and sign X-Amz-Security-Token")
    func sessionToken() async throws {
        let identity = AWSCredentialIdentity(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN//+==")
        try await FakeKinesis.run(credentials: StaticCredentialProvider(identity), handler: { Self.cannedAnswer($0) }) { server, client in
            _ = try await client.describeStreamSummary(stream: .name("s"))
            let request = try #require(server.requests.first)
            #expect(request.header("X-Amz-Security-Token") == "FQoGZXIvYXdzEXAMPLETOKEN//+==")
            #expect(request.header("Authorization")?.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,") == true)
            try FakeKinesis.verifySignature(request, credentials: identity)
        }
    }

    @Test("request bodies of the control- and data-plane operations")
    func requestBodies() async throws {
        try await FakeKinesis.run(handler: { Self.cannedAnswer($0) }) { server, client in
            _ = try await Self.callEveryOperation(client)
            let bodies = server.requests.map(\.bodyText)
            try #require(bodies.count == 9)
            #expect(
                FakeKinesis.sameJSON(
                    server.requests[0].body,
                    #"{"StreamName":"s","ShardCount":4,"StreamModeDetails":{"StreamMode":"PROVISIONED"},"Tags":{"a":"1","b":"2"}}"#
                ),
                "\(bodies[0])"
            )
            #expect(bodies[1] == #"{"StreamName":"s"}"#)
            #expect(bodies[2] == #"{"StreamName":"s"}"#)
            #expect(FakeKinesis.sameJSON(server.requests[3].body, #"{"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}}"#), "\(bodies[3])")
            #expect(
                bodies[4] == #"{"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"pk-1","ExplicitHashKey":"1","SequenceNumberForOrdering":"7"}"#
            )
            #expect(bodies[5] == #"{"Records":[{"Data":"aGVsbG8=","PartitionKey":"pk-1"}],"StreamName":"s"}"#)
            #expect(
                FakeKinesis.sameJSON(server.requests[6].body, #"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#),
                "\(bodies[6])"
            )
            #expect(FakeKinesis.sameJSON(server.requests[7].body, #"{"ShardIterator":"czpzaGFyZElkLTAwMDAwMDAwMDAwMDow\n","Limit":10}"#), "\(bodies[7])")
            #expect(bodies[8] == #"{"StreamName":"s"}"#)
        }
    }

    @Test("PutRecord by ARN only, and with an empty payload")
    func putRecordByARN() async throws {
        try await FakeKinesis.run(handler: { Self.cannedAnswer($0) }) { server, client in
            let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
            _ = try await client.putRecord(PutRecordsEntry(data: [], partitionKey: "k\"1"), stream: .arn(arn))
            #expect(server.requests.first?.bodyText == #"{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Data":"","PartitionKey":"k\"1"}"#)
        }
    }

    // MARK: ListShards

    @Test("ListShards follows three pages; follow-ups carry only NextToken and MaxResults; closed shards are dropped")
    func listShardsPagination() async throws {
        let ranges = evenSplit(4).map { ($0.startingHashKey.description, $0.endingHashKey.description) }
        let pages = [
            #"{"Shards":[\#(FakeKinesis.shardJSON(0, start: ranges[0].0, end: ranges[0].1)),\#(FakeKinesis.shardJSON(1, start: ranges[1].0, end: ranges[1].1))],"NextToken":"token-1"}"#,
            #"{"Shards":[\#(FakeKinesis.shardJSON(2, start: ranges[2].0, end: ranges[3].1, closedAt: "4960")),\#(FakeKinesis.shardJSON(3, start: ranges[2].0, end: ranges[2].1))],"NextToken":"token-2"}"#,
            #"{"Shards":[\#(FakeKinesis.shardJSON(4, start: ranges[3].0, end: ranges[3].1))]}"#,
        ]
        let handler: LoopbackHTTPServer.Handler = { request in
            guard FakeKinesis.operation(request) == "ListShards",
                let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
            else { return FakeKinesis.error(type: "SerializationException") }
            switch body["NextToken"] as? String {
            case nil: return FakeKinesis.ok(pages[0])
            case "token-1": return FakeKinesis.ok(pages[1])
            case "token-2": return FakeKinesis.ok(pages[2])
            default: return FakeKinesis.error(type: "InvalidArgumentException", message: "bad token")
            }
        }
        try await FakeKinesis.run(handler: handler) { server, client in
            let shards = try await client.listShards(stream: .name("my-stream"), filter: .atLatest, pageSize: 2)
            #expect(shards.map(\.shardID) == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000003", "shardId-000000000004"])
            #expect(shards.allSatisfy { $0.isOpen })
            #expect(shards.map(\.hashKeyRange) == evenSplit(4))

            let bodies = try server.requests.map { try jsonObject($0.body) }
            try #require(bodies.count == 3)
            #expect(Set(bodies[0].keys) == ["StreamName", "ShardFilter", "MaxResults"])
            #expect(bodies[0]["StreamName"] as? String == "my-stream")
            #expect((bodies[0]["ShardFilter"] as? [String: Any])?.count == 1)
            #expect((bodies[0]["ShardFilter"] as? [String: Any])?["Type"] as? String == "AT_LATEST")
            #expect(bodies[0]["MaxResults"] as? Int == 2)
            for (body, token) in zip(bodies.dropFirst(), ["token-1", "token-2"]) {
                #expect(Set(body.keys) == ["NextToken", "MaxResults"])
                #expect(body["NextToken"] as? String == token)
                #expect(body["MaxResults"] as? Int == 2)
            }
        }
    }

    @Test("ListShards without a filter sends none and keeps closed shards; without a page size sends no MaxResults")
    func listShardsNoFilter() async throws {
        let page = #"{"Shards":[\#(FakeKinesis.shardJSON(0, start: "0", end: "340282366920938463463374607431768211455", closedAt: "9")),\#(FakeKinesis.shardJSON(1, start: "0", end: "340282366920938463463374607431768211455"))]}"#
        try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(page) }) { server, client in
            let shards = try await client.listShards(stream: .arn("arn:aws:kinesis:us-east-1:123456789012:stream/s"))
            #expect(shards.map(\.isOpen) == [false, true])
            #expect(server.requests.first?.bodyText == #"{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#)
        }
    }

    @Test("ListShards restarts once when the page token expired")
    func listShardsExpiredToken() async throws {
        let calls = Counter()
        let handler: LoopbackHTTPServer.Handler = { request in
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]) ?? [:]
            let call = calls.next()
            if body["NextToken"] == nil {
                return FakeKinesis.ok(#"{"Shards":[\#(FakeKinesis.shardJSON(call, start: "0", end: "1"))],"NextToken":"t"}"#)
            }
            if call == 2 { return FakeKinesis.error(type: "ExpiredNextTokenException", message: "expired") }
            return FakeKinesis.ok(#"{"Shards":[\#(FakeKinesis.shardJSON(9, start: "2", end: "340282366920938463463374607431768211455"))]}"#)
        }
        try await FakeKinesis.run(handler: handler) { server, client in
            let shards = try await client.listShards(stream: .name("s"))
            #expect(server.requests.count == 4)
            // The second listing's shards only, not a mix of both.
            #expect(shards.map(\.shardID) == ["shardId-000000000003", "shardId-000000000009"])
        }
    }

    @Test("DescribeStream follows HasMoreShards with ExclusiveStartShardId")
    func describeStreamPagination() async throws {
        let handler: LoopbackHTTPServer.Handler = { request in
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]) ?? [:]
            let more = body["ExclusiveStartShardId"] == nil
            let shard = more ? FakeKinesis.shardJSON(0, start: "0", end: "5") : FakeKinesis.shardJSON(1, start: "6", end: "340282366920938463463374607431768211455")
            return FakeKinesis.ok(
                #"{"StreamDescription":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"UPDATING","StreamModeDetails":{"StreamMode":"PROVISIONED"},"Shards":[\#(shard)],"HasMoreShards":\#(more),"RetentionPeriodHours":48}}"#
            )
        }
        try await FakeKinesis.run(handler: handler) { server, client in
            let description = try await client.describeStream(stream: .name("s"))
            #expect(description.shards.map(\.shardID) == ["shardId-000000000000", "shardId-000000000001"])
            #expect(description.streamStatus == "UPDATING")
            #expect(description.streamMode == "PROVISIONED")
            #expect(description.retentionPeriodHours == 48)
            #expect(server.requests.map(\.bodyText) == [#"{"StreamName":"s"}"#, #"{"StreamName":"s","ExclusiveStartShardId":"shardId-000000000000"}"#])
        }
    }

    // MARK: Retries

    @Test("a 502 HTML answer is retried, and the retry succeeds")
    func badGatewayRetried() async throws {
        let calls = Counter()
        try await FakeKinesis.run(handler: { request in
            calls.next() == 1 ? FakeKinesis.badGateway : Self.cannedAnswer(request)
        }) { server, client in
            let summary = try await client.describeStreamSummary(stream: .name("s"))
            #expect(summary.streamStatus == "ACTIVE")
            #expect(server.requests.count == 2)
            // Each attempt is signed on its own.
            for request in server.requests { try FakeKinesis.verifySignature(request, credentials: TestKeys.example) }
        }
    }

    @Test("with maxAttempts 1 a 502 surfaces as a transient KinesisError")
    func badGatewayNoRetry() async throws {
        try await FakeKinesis.run(retry: .init(maxAttempts: 1), handler: { _ in FakeKinesis.badGateway }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.httpStatus == 502)
            #expect(error?.retryClass == .transient)
            #expect(error?.operation == "DescribeStreamSummary")
            #expect(error?.message.contains("502") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("throttling is retried up to maxAttempts, then surfaces")
    func throttlingExhaustsAttempts() async throws {
        try await FakeKinesis.run(handler: { _ in
            FakeKinesis.error(type: "com.amazonaws.kinesis.v20131202#LimitExceededException", message: "Rate exceeded", requestID: "rid-7")
        }) { server, client in
            let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
            #expect(error?.code == .limitExceeded)
            #expect(error?.retryClass == .throttled)
            #expect(error?.requestID == "rid-7")
            #expect(server.requests.count == 3)
        }
    }

    @Test("a fatal error is not retried")
    func fatalNotRetried() async throws {
        try await FakeKinesis.run(handler: { _ in
            FakeKinesis.error(type: "ResourceNotFoundException", message: "Stream s under account 123456789012 not found.")
        }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .resourceNotFound)
            #expect(error?.message == "Stream s under account 123456789012 not found.")
            #expect(error?.httpStatus == 400)
            #expect(server.requests.count == 1)
        }
    }

    @Test("ExpiredTokenException: credentials are invalidated and the retry is signed with the new key")
    func expiredTokenRefreshes() async throws {
        let keyA = AWSCredentialIdentity(accessKeyID: "AKIDKEYAAAAAAAAAAAAA", secretAccessKey: "secret-a", sessionToken: "token-a")
        let keyB = AWSCredentialIdentity(accessKeyID: "AKIDKEYBBBBBBBBBBBBB", secretAccessKey: "secret-b", sessionToken: "token-b")
        let provider = SequencedCredentialProvider([keyA, keyB])
        let calls = Counter()
        try await FakeKinesis.run(credentials: provider, handler: { request in
            calls.next() == 1
                ? FakeKinesis.error(type: "ExpiredTokenException", message: "The security token included in the request is expired")
                : Self.cannedAnswer(request)
        }) { server, client in
            let result = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
            #expect(result.records.count == 1)
            let requests = server.requests
            try #require(requests.count == 2)
            #expect(provider.invalidations == 1)
            #expect(requests[0].header("Authorization")?.contains("Credential=AKIDKEYAAAAAAAAAAAAA/") == true)
            #expect(requests[1].header("Authorization")?.contains("Credential=AKIDKEYBBBBBBBBBBBBB/") == true)
            try FakeKinesis.verifySignature(requests[0], credentials: keyA)
            try FakeKinesis.verifySignature(requests[1], credentials: keyB)
            #expect(requests[0].body == requests[1].body)
        }
    }

    @Test("ExpiredTokenException twice: only one refresh, then the error surfaces")
    func expiredTokenOnlyOnce() async throws {
        let provider = SequencedCredentialProvider([
            AWSCredentialIdentity(accessKeyID: "AKIDA", secretAccessKey: "a"),
            AWSCredentialIdentity(accessKeyID: "AKIDB", secretAccessKey: "b"),
            AWSCredentialIdentity(accessKeyID: "AKIDC", secretAccessKey: "c"),
        ])
        try await FakeKinesis.run(credentials: provider, handler: { _ in FakeKinesis.error(type: "ExpiredTokenException", message: "expired") }) {
            server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .expiredToken)
            #expect(error?.retryClass == .refreshCredentials)
            #expect(server.requests.count == 2)
            #expect(provider.invalidations == 1)
            #expect(error?.stopsStream == false, "expired twice means refresh again later, not a dead stream")
        }
    }

    @Test(
        "credentials rejected: one retry with freshly fetched ones; rejected again, the error stops the stream",
        arguments: ["UnrecognizedClientException", "InvalidSignatureException"]
    )
    func rejectedCredentialsRefetchedOnce(code: String) async throws {
        let provider = SequencedCredentialProvider([
            AWSCredentialIdentity(accessKeyID: "AKIDREVOKED", secretAccessKey: "a"),
            AWSCredentialIdentity(accessKeyID: "AKIDROTATED", secretAccessKey: "b"),
        ])
        let calls = Counter()
        try await FakeKinesis.run(credentials: provider, handler: { request in
            calls.next() == 1 ? FakeKinesis.error(type: code, message: "rejected") : Self.cannedAnswer(request)
        }) { server, client in
            _ = try await client.describeStreamSummary(stream: .name("s"))
            #expect(provider.invalidations == 1)
            #expect(server.requests.map { $0.header("Authorization")?.contains("Credential=AKIDROTATED/") == true } == [false, true])
        }
        try await FakeKinesis.run(credentials: provider, handler: { _ in FakeKinesis.error(type: code, message: "rejected") }) {
            server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code.rawValue == code)
            #expect(error?.stopsStream == true)
            #expect(server.requests.count == 2)
        }
    }

    @Test("a credential source that fails for now is a retryable CredentialsUnavailable, not a dead stream")
    func credentialsUnavailable() async throws {
        struct Down: CredentialProvider {
            let name = "down"
            func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
                throw CredentialProviderError(.fetchFailed, provider: "container", message: "http://127.0.0.1:1/creds answered HTTP 500")
            }
        }
        try await FakeKinesis.run(credentials: Down(), handler: { Self.cannedAnswer($0) }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .credentialsUnavailable)
            #expect(error?.retryClass == .transient)
            #expect(error?.stopsStream == false)
            #expect(error?.message.contains("HTTP 500") == true)
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a credential provider failure is a Credentials error and nothing is sent")
    func credentialFailure() async throws {
        struct Failing: CredentialProvider {
            struct Boom: Error {}
            let name = "failing"
            func credentials(logger: Logger) async throws -> AWSCredentialIdentity { throw Boom() }
        }
        try await FakeKinesis.run(credentials: Failing(), handler: { Self.cannedAnswer($0) }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .credentials)
            #expect(error?.retryClass == .fatal)
            #expect(error?.underlying is Failing.Boom)
            #expect(server.requests.isEmpty)
        }
    }

    // MARK: PutRecords

    @Test("PutRecords with 0 or 501 entries is refused without sending", arguments: [0, 501])
    func putRecordsCount(count: Int) async throws {
        try await FakeKinesis.run(handler: { Self.cannedAnswer($0) }) { server, client in
            let entries = (0..<count).map { PutRecordsEntry(data: [UInt8(truncatingIfNeeded: $0)], partitionKey: "k\($0)") }
            let error = await kinesisError { _ = try await client.putRecords(entries, stream: .name("s")) }
            #expect(error?.code == .invalidRequest)
            #expect(error?.retryClass == .fatal)
            #expect(error?.message.contains("\(count)") == true)
            #expect(server.requests.isEmpty)
        }
    }

    @Test("PutRecords with 500 entries is sent")
    func putRecords500() async throws {
        let answer = #"{"Records":["# + Array(repeating: #"{"SequenceNumber":"1","ShardId":"shardId-000000000000"}"#, count: 500).joined(separator: ",") + "]}"
        try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(answer) }) { server, client in
            let entries = (0..<500).map { PutRecordsEntry(data: [UInt8(truncatingIfNeeded: $0)], partitionKey: "k\($0)") }
            let result = try await client.putRecords(entries, stream: .name("s"))
            #expect(result.records.count == 500)
            #expect(result.failedRecordCount == 0)
            let body = try jsonObject(try #require(server.requests.first).body)
            #expect((body["Records"] as? [Any])?.count == 500)
        }
    }

    @Test("a PutRecords answer with the wrong number of entries is an invalid response")
    func putRecordsWrongCount() async throws {
        try await FakeKinesis.run(handler: { _ in
            FakeKinesis.ok(#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}"#)
        }) { server, client in
            let entries = [PutRecordsEntry(data: [1], partitionKey: "a"), PutRecordsEntry(data: [2], partitionKey: "b")]
            let error = await kinesisError { _ = try await client.putRecords(entries, stream: .name("s")) }
            #expect(error?.code == .invalidResponse)
            #expect(error?.message.contains("1") == true)
            #expect(error?.message.contains("2") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("FailedRecordCount absent counts as 0; per-entry ErrorCode surfaces")
    func putRecordsPartialFailure() async throws {
        let answers = [
            #"{"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"SequenceNumber":"2","ShardId":"shardId-000000000001"}]}"#,
            #"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"3","ShardId":"shardId-000000000000"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream s under account 123456789012."}],"EncryptionType":"KMS"}"#,
        ]
        let calls = Counter()
        try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(answers[min(calls.next(), 2) - 1]) }) { _, client in
            let entries = [PutRecordsEntry(data: [1], partitionKey: "a"), PutRecordsEntry(data: [2], partitionKey: "b")]
            let full = try await client.putRecords(entries, stream: .name("s"))
            #expect(full.failedRecordCount == 0)
            #expect(full.records.map(\.succeeded) == [true, true])
            #expect(full.records.map(\.shardID) == ["shardId-000000000000", "shardId-000000000001"])
            #expect(full.encryptionType == nil)

            let partial = try await client.putRecords(entries, stream: .name("s"))
            #expect(partial.failedRecordCount == 1)
            #expect(partial.encryptionType == "KMS")
            #expect(partial.records[0].errorCode == nil)
            #expect(partial.records[0].sequenceNumber == "3")
            #expect(partial.records[1].errorCode == "ProvisionedThroughputExceededException")
            #expect(partial.records[1].errorMessage?.hasPrefix("Rate exceeded for shard shardId-000000000001") == true)
            #expect(partial.records[1].succeeded == false)
            #expect(partial.records[1].sequenceNumber == nil)
        }
    }

    @Test("a 200 answer that is not the expected JSON is an invalid response")
    func unreadableAnswer() async throws {
        try await FakeKinesis.run(handler: { _ in FakeKinesis.ok("<html>not json</html>") }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .invalidResponse)
            #expect(error?.httpStatus == 200)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: Transport

    @Test("an unreachable endpoint is a quick Transport error")
    func unreachable() async throws {
        let client = KinesisClient(
            configuration: try .init(
                region: "us-east-1",
                endpoint: KinesisEndpoint(url: "http://127.0.0.1:1"),
                http: .init(connectTimeout: .milliseconds(500), requestTimeout: .seconds(2)),
                retry: .init(maxAttempts: 1)
            ),
            credentialProvider: StaticCredentialProvider(TestKeys.example),
            logger: Logger(label: "test")
        )
        let start = ContinuousClock.now
        let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
        let elapsed = ContinuousClock.now - start
        try await client.shutdown()
        #expect(error?.code == .transport)
        #expect(error?.retryClass == .transient)
        #expect(error?.httpStatus == nil)
        #expect(error?.message.contains("127.0.0.1:1") == true)
        #expect(elapsed < .seconds(3))
    }

    @Test("a dropped connection is a Transport error")
    func droppedConnection() async throws {
        try await FakeKinesis.run(retry: .init(maxAttempts: 1), handler: { _ in LoopbackHTTPServer.Response(status: 0) }) { server, client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .transport)
            #expect(error?.retryClass == .transient)
            #expect(server.requests.count == 1)
        }
    }

    @Test("no answer within the request timeout is a Timeout error")
    func timeout() async throws {
        try await FakeKinesis.run(
            http: .init(connectTimeout: .seconds(1), requestTimeout: .milliseconds(300)),
            retry: .init(maxAttempts: 1),
            handler: { request in
                try? await Task.sleep(for: .seconds(10))
                return Self.cannedAnswer(request)
            }
        ) { _, client in
            let start = ContinuousClock.now
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name("s")) }
            #expect(error?.code == .timeout)
            #expect(error?.retryClass == .transient)
            #expect(ContinuousClock.now - start < .seconds(5))  // the 300 ms timeout, not the 10 s answer
        }
    }
}
