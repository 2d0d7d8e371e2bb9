import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Credential sources against moto_server", .enabled(if: Moto.isAvailable))
struct MotoCredentialSourceTests {
    let moto = Moto.url ?? ""

    @Test("IMDSv2: token, role, credentials from the metadata endpoint")
    func imds() async throws {
        try await withHTTPClient { client in
            let identity = try await IMDSCredentialProvider(
                environment: Moto.isolatedEnvironment([
                    "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": moto + "/",
                ]),
                httpClient: client
            ).credentials(logger: testLogger)
            #expect(identity.accessKeyID == "test-key")
            #expect(identity.secretAccessKey == "test-secret-key")
            #expect(identity.sessionToken == "test-session-token")
            let expiration = try #require(identity.expiration)
            #expect(expiration > Date().addingTimeInterval(3600))
        }
    }

    @Test("IMDS at an endpoint set explicitly that does not answer is an error naming it, quickly")
    func imdsUnreachable() async throws {
        try await withHTTPClient { client in
            let start = ContinuousClock.now
            let error = await #expect(throws: CredentialProviderError.self) {
                try await IMDSCredentialProvider(
                    environment: Moto.isolatedEnvironment([
                        "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1",
                    ]),
                    httpClient: client
                ).credentials(logger: testLogger)
            }
            // Set by the user, it must answer (a chain would stop here); only the default address counts as "no
            // instance metadata on this machine".
            #expect(error?.code == .fetchFailed)
            #expect(error?.message.contains("127.0.0.1:1") == true)
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("web identity from the environment: unsigned STS AssumeRoleWithWebIdentity, token file re-read")
    func webIdentity() async throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "first-jwt\n")
        try await withHTTPClient { client in
            let provider = WebIdentityCredentialProvider(
                environment: Moto.isolatedEnvironment([
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/test-role",
                    "AWS_ROLE_SESSION_NAME": "kp-test", "AWS_ENDPOINT_URL_STS": moto, "AWS_REGION": "us-east-1",
                ]),
                httpClient: client
            )
            let first = try await provider.credentials(logger: testLogger)
            #expect(first.accessKeyID.hasPrefix("ASIA"))
            #expect(first.sessionToken?.isEmpty == false)
            #expect(first.expiration != nil)
            // The platform rotates the token file; the next fetch must read it again (an emptied file now fails).
            try directory.write("token", "")
            let error = await #expect(throws: CredentialProviderError.self) { try await provider.credentials(logger: testLogger) }
            #expect(error?.message.contains("is empty") == true)
        }
    }

    @Test("profile role_arn + source_profile: STS AssumeRole signed with the source credentials")
    func assumeRoleProfile() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "config",
            """
            [profile base]
            region = us-east-1
            [profile role]
            role_arn = arn:aws:iam::123456789012:role/kp-role
            source_profile = base
            role_session_name = kp-session
            [profile nested]
            role_arn = arn:aws:iam::123456789012:role/kp-nested
            source_profile = role
            """
        )
        let credentials = try directory.write("credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        try await withHTTPClient { client in
            let environment = Moto.isolatedEnvironment([
                "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_ENDPOINT_URL_STS": moto,
            ])
            let role = try await ProfileCredentialProvider(profile: "role", environment: environment, httpClient: client)
                .credentials(logger: testLogger)
            #expect(role.accessKeyID.hasPrefix("ASIA"))
            #expect(role.accessKeyID != "AKIABASE")
            #expect(role.sessionToken != nil)
            let nested = try await ProfileCredentialProvider(profile: "nested", environment: environment, httpClient: client)
                .credentials(logger: testLogger)
            #expect(nested.accessKeyID.hasPrefix("ASIA"))
            #expect(nested.accessKeyID != role.accessKeyID)
        }
    }

    @Test("profile web_identity_token_file + role_arn")
    func profileWebIdentity() async throws {
        let directory = try TemporaryDirectory()
        let token = try directory.write("token", "jwt")
        let config = try directory.write(
            "config",
            "[profile web]\nweb_identity_token_file = \(token)\nrole_arn = arn:aws:iam::123456789012:role/web\n"
        )
        try await withHTTPClient { client in
            let identity = try await ProfileCredentialProvider(
                profile: "web",
                environment: Moto.isolatedEnvironment(["AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL_STS": moto]),
                httpClient: client
            ).credentials(logger: testLogger)
            #expect(identity.accessKeyID.hasPrefix("ASIA"))
        }
    }
}

@Suite("Container credentials against a loopback server")
struct ContainerCredentialTests {
    static let body = #"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"2031-01-01T00:00:00Z","RoleArn":"arn:aws:iam::123456789012:role/task"}"#

    @Test("full URI with an authorization token file, re-read on every fetch")
    func fullURIWithTokenFile() async throws {
        let server = try await LoopbackHTTPServer.start { request in
            guard request.uri == "/creds", request.header("Accept") == "application/json" else {
                return .init(status: 404, body: #"{"code":"NotFound","message":"no such path"}"#)
            }
            return request.header("Authorization")?.hasPrefix("Bearer ") == true
                ? .init(body: Self.body) : .init(status: 401, body: #"{"code":"Unauthorized","message":"bad token"}"#)
        }
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "Bearer first\n")
        try await withHTTPClient { client in
            let provider = ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment([
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-set",
                ]),
                httpClient: client
            )
            let identity = try await provider.credentials(logger: testLogger)
            #expect(identity.accessKeyID == "ASIACONTAINER")
            #expect(identity.sessionToken == "container-token")
            #expect(identity.expiration == Date(timeIntervalSince1970: 1_924_992_000))
            try directory.write("token", "Bearer second")
            _ = try await provider.credentials(logger: testLogger)
            #expect(server.requests.map { $0.header("Authorization") } == ["Bearer first", "Bearer second"])

            try directory.write("token", "wrong")
            let error = await #expect(throws: CredentialProviderError.self) { try await provider.credentials(logger: testLogger) }
            #expect(error?.code == .rejected)
            #expect(error?.message.contains("HTTP 401") == true)
            #expect(error?.message.contains("bad token") == true)
        }
        try await server.stop()
    }

    @Test("transient failures are retried; a token with a line break and non-loopback http hosts are refused")
    func retriesAndValidation() async throws {
        let calls = Atomic<Int>(0)
        let server = try await LoopbackHTTPServer.start { _ in
            calls.add(1, ordering: .relaxed).oldValue < 2 ? .init(status: 503, body: "busy") : .init(body: Self.body)
        }
        try await withHTTPClient { client in
            let identity = try await ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/"]),
                httpClient: client
            ).credentials(logger: testLogger)
            #expect(identity.accessKeyID == "ASIACONTAINER")
            #expect(calls.load(ordering: .relaxed) == 3)

            let injected = await #expect(throws: CredentialProviderError.self) {
                try await ContainerCredentialProvider(
                    environment: Moto.isolatedEnvironment([
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1",
                    ]),
                    httpClient: client
                ).credentials(logger: testLogger)
            }
            #expect(injected?.message.contains("line break") == true)

            let remote = await #expect(throws: CredentialProviderError.self) {
                try await ContainerCredentialProvider(
                    environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"]),
                    httpClient: client
                ).credentials(logger: testLogger)
            }
            #expect(remote?.code == .invalidConfiguration)
            #expect(calls.load(ordering: .relaxed) == 3)
        }
        try await server.stop()
    }

    @Test(
        "full URI hosts over http are checked as addresses: loopback, link-local ECS and EKS only",
        arguments: [
            ("http://127.evil.example/creds", false), ("http://127.0.0.1.nip.io/creds", false), ("http://128.0.0.1/creds", false),
            ("http://[::2]/creds", false), ("http://127.1.2.3:1/creds", true), ("http://[::1]:1/creds", true),
            ("http://localhost:1/creds", true), ("https://anything.example/creds", true),
        ]
    )
    func fullURIHosts(url: String, allowed: Bool) async throws {
        try await withHTTPClient { client in
            let provider = ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url]),
                httpClient: client,
                timeout: .milliseconds(200),
                attempts: 1
            )
            let error = await #expect(throws: CredentialProviderError.self) { try await provider.credentials(logger: testLogger) }
            // Allowed hosts are asked (and fail to answer here); refused ones are a configuration error.
            #expect((error?.code == .invalidConfiguration) == !allowed, "\(url): \(String(describing: error))")
        }
    }

    @Test("an Expiration that does not parse is an error naming the source, not credentials that never expire")
    func unreadableExpiration() async throws {
        let server = try await LoopbackHTTPServer.start { _ in
            .init(body: #"{"AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t","Expiration":"next tuesday"}"#)
        }
        try await withHTTPClient { client in
            let error = await #expect(throws: CredentialProviderError.self) {
                try await ContainerCredentialProvider(
                    environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds"]),
                    httpClient: client,
                    attempts: 1
                ).credentials(logger: testLogger)
            }
            #expect(error?.message == "the Expiration from \(server.url)/creds 'next tuesday' is not an ISO-8601 timestamp")
        }
        try await server.stop()
    }
}

@Suite("Instance metadata settings")
struct IMDSSettingsTests {
    @Test("AWS_METADATA_SERVICE_TIMEOUT that is not a usable number of seconds is refused with a message", arguments: ["inf", "nan", "-1", "soon"])
    func unusableTimeout(value: String) async throws {
        try await withHTTPClient { client in
            let error = await #expect(throws: CredentialProviderError.self) {
                try await IMDSCredentialProvider(
                    environment: ["AWS_METADATA_SERVICE_TIMEOUT": value, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"],
                    httpClient: client
                ).credentials(logger: testLogger)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message == "AWS_METADATA_SERVICE_TIMEOUT '\(value)' is not a number of seconds between 0 and 3600")
        }
    }

    @Test("an explicitly set AWS_EC2_METADATA_SERVICE_ENDPOINT that does not answer is an error, not a skip")
    func explicitEndpointMustAnswer() async throws {
        try await withHTTPClient { client in
            let error = await #expect(throws: CredentialProviderError.self) {
                try await IMDSCredentialProvider(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"], httpClient: client, timeout: .milliseconds(500)
                ).credentials(logger: testLogger)
            }
            #expect(error?.code == .fetchFailed)
            #expect(error?.message.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT") == true)
        }
    }

    @Test("HTTP 5xx from instance metadata is tried again inside the provider; stale credentials keep serving for minutes")
    func retriesAndStaticStability() async throws {
        let credentialCalls = Atomic<Int>(0)
        let server = try await LoopbackHTTPServer.start { request in
            switch request.uri {
            case "/latest/api/token": return .init(body: "token")
            case "/latest/meta-data/iam/security-credentials/": return .init(body: "role")
            default:
                if credentialCalls.add(1, ordering: .relaxed).newValue < 3 { return .init(status: 500, body: "busy") }
                // Expired an hour ago: IMDS cannot renew them now.
                let expired = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
                return .init(body: #"{"Code":"Success","AccessKeyId":"ASIASTALE","SecretAccessKey":"s","Token":"t","Expiration":"\#(expired)"}"#)
            }
        }
        try await withHTTPClient { client in
            let identity = try await IMDSCredentialProvider(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url], httpClient: client
            ).credentials(logger: testLogger)
            #expect(credentialCalls.load(ordering: .relaxed) == 3)
            #expect(identity.accessKeyID == "ASIASTALE")
            let usableFor = try #require(identity.expiration).timeIntervalSinceNow
            #expect(usableFor > 290 && usableFor <= 600, "static stability: 5 to 10 more minutes, got \(usableFor) s")
        }
        try await server.stop()
    }
}

@Suite("Test environment")
struct TestEnvironmentTests {
    @Test("in CI the moto servers are configured, so integration tests cannot be skipped silently")
    func motoConfiguredInCI() {
        if TestEnvironment.isCI {
            #expect(Moto.isAvailable, "KINESIS_PUSHER_MOTO_URL must be set in CI (scripts/with-moto.sh)")
            #expect(Moto.isAuthAvailable, "KINESIS_PUSHER_MOTO_AUTH_URL must be set in CI (scripts/with-moto.sh)")
        }
    }
}
