import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Strict SigV4 mode: signatures are recomputed with the configured secrets.
@Suite("KinesisLocal strict signatures")
struct SignatureTests {
    static let key = KinesisLocal.Configuration.Authentication.AccessKey(
        accessKeyID: "AKIALOCALSTRICT00001",
        secretAccessKey: "strict/secret+KEY/0123456789abcdefghij"
    )
    static let sessionKey = KinesisLocal.Configuration.Authentication.AccessKey(
        accessKeyID: "ASIALOCALSESSION0001",
        secretAccessKey: "session/secret+KEY/0123456789abcdefgh",
        sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN//+=="
    )
    static let configuration = KinesisLocal.Configuration(
        streams: [.init(name: "s", shardCount: 2)],
        authentication: .strict([key, sessionKey])
    )

    static func identity(_ key: KinesisLocal.Configuration.Authentication.AccessKey, secret: String? = nil, token: String? = nil) -> AWSCredentialIdentity {
        AWSCredentialIdentity(accessKeyID: key.accessKeyID, secretAccessKey: secret ?? key.secretAccessKey, sessionToken: token ?? key.sessionToken)
    }

    /// Every operation the client has, signed with `identity`.
    static func exerciseEveryOperation(_ client: KinesisClient) async throws {
        try await client.createStream(name: "made", shardCount: 1)
        try await client.waitUntilActive(stream: .name("made"), timeout: .seconds(5), pollInterval: .milliseconds(10))
        #expect(try await client.describeStreamSummary(stream: .name("s")).openShardCount == 2)
        #expect(try await client.describeStream(stream: .name("s")).shards.count == 2)
        #expect(try await client.listShards(stream: .name("s"), filter: .atLatest, pageSize: 1).count == 2)
        let put = try await client.putRecord(PutRecordsEntry(data: Array("signed".utf8), partitionKey: "pk-1"), stream: .name("s"))
        #expect(put.shardID == shardID(1))
        let batch = try await client.putRecords([PutRecordsEntry(data: [0, 1, 2], partitionKey: "a")], stream: .name("s"))
        #expect(batch.failedRecordCount == 0)
        let records = try await readShard(client, stream: .name("s"), shardID: shardID(1))
        #expect(records.map(\.data) == [Array("signed".utf8)])
        try await client.deleteStream(stream: .name("made"))
    }

    @Test("a correctly signed client passes every operation (with and without a session token)")
    func correctlySigned() async throws {
        try await withServer(Self.configuration) { server in
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(Self.identity(Self.key)), retry: noRetry) { client in
                try await Self.exerciseEveryOperation(client)
            }
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(Self.identity(Self.sessionKey)), retry: noRetry) { client in
                #expect(try await client.listShards(stream: .name("s")).count == 2)
                _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "session")], stream: .name("s"))
            }
        }
    }

    @Test("a wrong secret: InvalidSignatureException")
    func wrongSecret() async throws {
        try await withServer(Self.configuration) { server in
            let wrong = Self.identity(Self.key, secret: Self.key.secretAccessKey + "x")
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(wrong), retry: noRetry) { client in
                let error = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s")) }
                #expect(error?.code == .invalidSignature)
                #expect(error?.httpStatus == 400)
                #expect(error?.retryClass == .fatal)
                #expect(error?.message.hasPrefix("The request signature we calculated does not match the signature you provided.") == true)
            }
            #expect(server.stats().streams["s"]?.accepted == 0)
        }
    }

    @Test("an unknown access key: UnrecognizedClientException")
    func unknownKey() async throws {
        try await withServer(Self.configuration) { server in
            let unknown = AWSCredentialIdentity(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: Self.key.secretAccessKey)
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(unknown), retry: noRetry) { client in
                let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
                #expect(error?.code == .unrecognizedClient)
                #expect(error?.httpStatus == 400)
                #expect(error?.message == "The security token included in the request is invalid.")
            }
        }
    }

    @Test("a configured session token is required, and must match")
    func sessionTokenRequired() async throws {
        try await withServer(Self.configuration) { server in
            for token in [nil, "wrong-token"] as [String?] {
                let identity = AWSCredentialIdentity(
                    accessKeyID: Self.sessionKey.accessKeyID,
                    secretAccessKey: Self.sessionKey.secretAccessKey,
                    sessionToken: token
                )
                try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(identity), retry: noRetry) { client in
                    let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
                    #expect(error?.code == .unrecognizedClient, "token \(token ?? "nil")")
                }
            }
            // A token where none is configured is refused too.
            let extra = Self.identity(Self.key, token: "unexpected")
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(extra), retry: noRetry) { client in
                let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
                #expect(error?.code == .unrecognizedClient)
            }
        }
    }

    @Test("clock skew, a missing Authorization and an unconfigured key are refused")
    func rawRefusals() async throws {
        try await withServer(Self.configuration) { server in
            let good = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s"}"#, credentials: Self.identity(Self.key))
            #expect(good.status == 200, "\(good.body)")

            let skewed = try await rawKinesis(
                server.endpoint,
                operation: "ListShards",
                body: .init(string: #"{"StreamName":"s"}"#),
                credentials: Self.identity(Self.key),
                signedAt: Date().addingTimeInterval(-600)
            )
            #expect(skewed.errorType == "InvalidSignatureException")
            #expect(skewed.message?.hasPrefix("Signature expired") == true, "\(skewed.message ?? "")")

            let unsigned = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s"}"#, credentials: nil)
            #expect(unsigned.errorType == "MissingAuthenticationTokenException")

            // The example key is not configured in strict mode.
            let other = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s"}"#)
            #expect(other.errorType == "UnrecognizedClientException")
        }
    }
}
