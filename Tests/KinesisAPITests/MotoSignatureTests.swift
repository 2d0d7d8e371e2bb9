import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Foundation
import KinesisAPI
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// Against a moto_server that checks signatures (`INITIAL_NO_AUTH_ACTION_COUNT`): every operation signed by the
/// client must verify, and a wrong secret must be refused.
///
/// Each test first resets moto's free-call budget to 3 and spends it on IAM (create a user, give it `*` on `*`,
/// create an access key), so the suite runs any number of times against the same server.
@Suite("moto signature checking", .serialized, .enabled(if: Moto.isAuthAvailable))
struct MotoSignatureTests {
    /// A syntactically valid but unverifiable Authorization, for the free IAM calls (moto routes by its scope).
    static let freeAuthorization =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=deadbeef"

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func xmlValue(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }

    static func post(
        _ client: HTTPClient,
        url: String,
        contentType: String,
        headers: [(String, String)] = [],
        body: String
    ) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: answer))
    }

    /// Resets moto's free-call budget to 3 and spends it on an IAM user with full rights and an access key.
    static func provisionUser(authURL: String) async throws -> AWSCredentialIdentity {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let base = authURL.hasSuffix("/") ? String(authURL.dropLast()) : authURL
            let reset = try await post(http, url: base + "/moto-api/reset-auth", contentType: "text/plain", body: "3")
            try #require(reset.status == 200, "reset-auth answered \(reset.status): \(reset.body)")

            let user = Moto.uniqueName("kp-signer")
            let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
            let calls = [
                "Action=CreateUser&UserName=\(user)&Version=2010-05-08",
                "Action=PutUserPolicy&UserName=\(user)&PolicyName=all&PolicyDocument=\(formEncode(policy))&Version=2010-05-08",
                "Action=CreateAccessKey&UserName=\(user)&Version=2010-05-08",
            ]
            var last = ""
            for form in calls {
                let answer = try await post(
                    http,
                    url: base + "/",
                    contentType: "application/x-www-form-urlencoded; charset=utf-8",
                    headers: [("Authorization", freeAuthorization), ("X-Amz-Date", "20260101T000000Z")],
                    body: form
                )
                try #require(answer.status == 200, "IAM \(form.prefix(30))… answered \(answer.status): \(answer.body)")
                last = answer.body
            }
            let keyID = try #require(xmlValue("AccessKeyId", in: last), "no AccessKeyId in \(last)")
            let secret = try #require(xmlValue("SecretAccessKey", in: last), "no SecretAccessKey in \(last)")
            try await http.shutdown()
            return AWSCredentialIdentity(accessKeyID: keyID, secretAccessKey: secret)
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    @Test("every operation, signed by the client, verifies")
    func everyOperationVerifies() async throws {
        let url = try #require(Moto.authURL)
        let identity = try await Self.provisionUser(authURL: url)
        #expect(identity.accessKeyID.hasPrefix("AKIA"))
        let name = Moto.uniqueName("kp-signed")
        let stream = StreamIdentifier.name(name)
        try await withKinesisClient(url: url, credentials: StaticCredentialProvider(identity), retry: .init(maxAttempts: 1)) { client in
            try await client.createStream(name: name, shardCount: 2)
            try await client.waitUntilActive(stream: stream, timeout: .seconds(30), pollInterval: .milliseconds(100))
            let summary = try await client.describeStreamSummary(stream: stream)
            #expect(summary.openShardCount == 2)
            let description = try await client.describeStream(stream: stream)
            #expect(description.shards.count == 2)
            let shards = try await client.listShards(stream: stream, filter: .atLatest, pageSize: 100)
            #expect(shards.map(\.hashKeyRange) == evenSplit(2))

            let single = PutRecordsEntry(data: Array("signed".utf8), partitionKey: "pk-1")
            let put = try await client.putRecord(single, stream: stream)
            #expect(put.shardID == shardID(1))  // reference §7: pk-1 → shard 1 of 2
            let batch = roundTripBatch()
            let result = try await client.putRecords(batch, stream: stream)
            #expect(result.failedRecordCount == 0)
            #expect(result.records.count == batch.count)

            let read = try await readAll(client, stream: stream, shards: shards)
            #expect(read.count == batch.count + 1)
            for entry in batch + [single] {
                #expect(read.first { $0.record.partitionKey == entry.partitionKey }?.record.data == entry.data, "\(entry.partitionKey)")
            }
            try await client.deleteStream(stream: stream)
        }
    }

    @Test("a wrong secret is refused with SignatureDoesNotMatch; an unknown key with InvalidClientTokenId")
    func wrongSecretRefused() async throws {
        let url = try #require(Moto.authURL)
        let identity = try await Self.provisionUser(authURL: url)
        let wrong = AWSCredentialIdentity(accessKeyID: identity.accessKeyID, secretAccessKey: identity.secretAccessKey + "x")
        try await withKinesisClient(url: url, credentials: StaticCredentialProvider(wrong)) { client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name(Moto.uniqueName("kp-any"))) }
            #expect(error?.code.rawValue == "SignatureDoesNotMatch")
            #expect(error?.httpStatus == 403)
            #expect(error?.retryClass == .fatal)
            #expect(error.map { "\($0)" }?.contains("SignatureDoesNotMatch") == true)
            #expect(error.map { "\($0)" }?.contains("HTTP 403") == true)
        }
        let unknown = AWSCredentialIdentity(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: identity.secretAccessKey)
        try await withKinesisClient(url: url, credentials: StaticCredentialProvider(unknown)) { client in
            let error = await kinesisError { try await client.createStream(name: Moto.uniqueName("kp-never"), shardCount: 1) }
            #expect(error?.code.rawValue == "InvalidClientTokenId")
            #expect(error?.httpStatus == 403)
        }
        // The right secret still works after the refusals.
        try await withKinesisClient(url: url, credentials: StaticCredentialProvider(identity)) { client in
            let error = await kinesisError { _ = try await client.describeStreamSummary(stream: .name(Moto.uniqueName("kp-absent"))) }
            #expect(error?.code == .resourceNotFound)
        }
    }
}
