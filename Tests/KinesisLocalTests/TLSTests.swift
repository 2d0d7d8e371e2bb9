import Foundation
import KinesisAPI
import KinesisLocal
import Testing
import TestSupport

/// `local --tls`: HTTPS with a self-signed certificate a client trusts by taking it as its CA bundle.
@Suite("KinesisLocal over TLS")
struct TLSTests {
    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "kinesis-local-tls-test-\(UUID().uuidString)"
    }

    @Test("a client trusting the generated certificate puts and reads over HTTPS; one trusting the system's is refused")
    func trustedAndNot() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tls = try KinesisLocal.Configuration.TLS.selfSigned(in: directory)
        let keyMode = try FileManager.default.attributesOfItem(atPath: tls.privateKeyPath)[.posixPermissions] as? Int
        #expect(keyMode == 0o600, "the private key is readable by others")
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)], tls: tls)) { server in
            #expect(server.endpoint.hasPrefix("https://127.0.0.1:"))
            try await withClient(url: server.endpoint, retry: noRetry, configure: { $0.http.caBundlePath = tls.certificatePath }) { client in
                let put = try await client.putRecord(PutRecordsEntry(data: Array("over tls".utf8), partitionKey: "k"), stream: .name("s"))
                #expect(put.shardID == "shardId-000000000000")
            }
            #expect(try server.storedRecords(stream: "s").map(\.data) == [Array("over tls".utf8)])
            // The same server by name: the certificate names localhost too.
            let byName = server.endpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            try await withClient(url: byName, retry: noRetry, configure: { $0.http.caBundlePath = tls.certificatePath }) { client in
                _ = try await client.describeStreamSummary(stream: .name("s"))
            }
            await #expect(throws: (any Error).self, "a client without the certificate trusted it") {
                try await withClient(url: server.endpoint, retry: noRetry) { client in
                    _ = try await client.describeStreamSummary(stream: .name("s"))
                }
            }
        }
    }

    @Test("the CA bundle resolves from --ca-bundle, AWS_CA_BUNDLE, the profile's ca_bundle; a missing file names its source")
    func caBundleResolution() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tls = try KinesisLocal.Configuration.TLS.selfSigned(in: directory)
        let config = directory + "/config"
        try "[profile p]\nregion = eu-west-1\nca_bundle = \(tls.certificatePath)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let base = ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": directory + "/credentials", "AWS_REGION": "us-east-1"]
        #expect(try KinesisClient.Configuration.resolve(environment: base).http.caBundlePath == nil)
        #expect(try KinesisClient.Configuration.resolve(environment: base.merging(["AWS_CA_BUNDLE": tls.certificatePath]) { $1 }).http.caBundlePath == tls.certificatePath)
        #expect(try KinesisClient.Configuration.resolve(profile: "p", environment: base).http.caBundlePath == tls.certificatePath)
        #expect(try KinesisClient.Configuration.resolve(caBundle: tls.privateKeyPath, environment: base).http.caBundlePath == tls.privateKeyPath)
        #expect {
            _ = try KinesisClient.Configuration.resolve(environment: base.merging(["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]) { $1 })
        } throws: { error in
            "\(error)".contains("/nonexistent/ca.pem") && "\(error)".contains("AWS_CA_BUNDLE")
        }
    }
}
