import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import Testing

/// Loopback stand-ins for the credential endpoints, each handing out its own access key id.
enum CredentialEndpoints {
    static func containerAnswer(_ keyID: String) -> LoopbackHTTPServer.Response {
        .init(body: #"{"AccessKeyId":"\#(keyID)","SecretAccessKey":"secret-\#(keyID)","Token":"token-\#(keyID)","Expiration":"2031-01-01T00:00:00Z"}"#)
    }

    /// A container credentials endpoint answering `keyID` at `path`.
    static func container(_ keyID: String, path: String = "/creds") async throws -> LoopbackHTTPServer {
        try await LoopbackHTTPServer.start { request in
            request.uri == path ? containerAnswer(keyID) : .init(status: 404, body: #"{"code":"NotFound","message":"\#(request.uri)"}"#)
        }
    }

    /// An IMDSv2 endpoint with one role whose credentials carry `keyID`.
    static func imds(_ keyID: String) async throws -> LoopbackHTTPServer {
        try await LoopbackHTTPServer.start { request in
            switch (request.method, request.uri) {
            case ("PUT", "/latest/api/token"):
                return .init(body: "imds-token")
            case ("GET", "/latest/meta-data/iam/security-credentials/") where request.header("x-aws-ec2-metadata-token") == "imds-token":
                return .init(body: "instance-role\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/instance-role") where request.header("x-aws-ec2-metadata-token") == "imds-token":
                return .init(body: #"{"Code":"Success","AccessKeyId":"\#(keyID)","SecretAccessKey":"secret-\#(keyID)","Token":"token-\#(keyID)","Expiration":"2031-01-01T00:00:00Z"}"#)
            default:
                return .init(status: 404, body: "not found")
            }
        }
    }

    /// An STS endpoint answering AssumeRoleWithWebIdentity with `keyID`.
    static func webIdentitySTS(_ keyID: String) async throws -> LoopbackHTTPServer {
        try await LoopbackHTTPServer.start { request in
            guard request.bodyText.contains("Action=AssumeRoleWithWebIdentity") else { return .init(status: 400, body: "<Error><Code>Unexpected</Code></Error>") }
            return .init(body: """
                <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
                <AccessKeyId>\(keyID)</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken>\
                <Expiration>2031-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
                """)
        }
    }
}

/// The default chain with every source configured at once: the documented order decides (environment → web
/// identity → profile → container → IMDS), and taking the winner away hands the win to the next.
@Suite("Default chain precedence with several sources configured")
struct ChainPrecedenceTests {
    @Test("environment, web identity, profile, container and IMDS all configured: each wins in turn as the ones before it go")
    func precedence() async throws {
        let container = try await CredentialEndpoints.container("ASIACONTAINER")
        let imds = try await CredentialEndpoints.imds("ASIAIMDS")
        let sts = try await CredentialEndpoints.webIdentitySTS("ASIAWEBIDENTITY")
        let directory = try TemporaryDirectory()
        let credentialsFile = try directory.write("credentials", "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n")
        let configFile = try directory.write("config", "[default]\nregion = us-east-1\n")
        let tokenFile = try directory.write("token", "web-identity-jwt")
        var environment = [
            "HOME": "/nonexistent-kinesis-pusher-home",
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
            "AWS_ENDPOINT_URL_STS": sts.url, "AWS_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": credentialsFile, "AWS_CONFIG_FILE": configFile,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + "/creds",
            "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        ]
        try await withHTTPClient { client in
            func winner() async throws -> String {
                try await DefaultCredentialChain.make(environment: environment, httpClient: client, logger: testLogger)
                    .credentials(logger: testLogger).accessKeyID
            }
            let key1 = try await winner()
            #expect(key1 == "AKIAENV")
            // The winner answered from the environment: no endpoint was asked.
            #expect(sts.requests.isEmpty && container.requests.isEmpty && imds.requests.isEmpty)

            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
            let key2 = try await winner()
            #expect(key2 == "ASIAWEBIDENTITY")
            #expect(sts.requests.count == 1)
            #expect(container.requests.isEmpty && imds.requests.isEmpty)

            environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
            environment["AWS_ROLE_ARN"] = nil
            let key3 = try await winner()
            #expect(key3 == "AKIAPROFILE")
            #expect(sts.requests.count == 1)
            #expect(container.requests.isEmpty && imds.requests.isEmpty)

            environment["AWS_SHARED_CREDENTIALS_FILE"] = directory.path + "/no-such-file"
            let key4 = try await winner()
            #expect(key4 == "ASIACONTAINER")
            #expect(container.requests.count == 1)
            #expect(imds.requests.isEmpty)

            environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = nil
            let key5 = try await winner()
            #expect(key5 == "ASIAIMDS")
            #expect(imds.requests.map(\.uri) == [
                "/latest/api/token", "/latest/meta-data/iam/security-credentials/", "/latest/meta-data/iam/security-credentials/instance-role",
            ])

            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            let error = await #expect(throws: CredentialProviderError.self) { _ = try await winner() }
            #expect(error?.code == .noCredentials)
        }
        try await container.stop()
        try await imds.stop()
        try await sts.stop()
    }

    @Test("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI wins over FULL_URI and is resolved against http://169.254.170.2 (reached through a loopback proxy that ends the tunnel itself)")
    func relativeURI() async throws {
        let full = try await CredentialEndpoints.container("ASIAFULL")
        // Every request of this client goes to the loopback proxy, which answers it itself: nothing leaves the machine.
        let proxy = try await TerminatingProxy.start(answer: #"{"AccessKeyId":"ASIARELATIVE","SecretAccessKey":"s","Token":"token-relative","Expiration":"2031-01-01T00:00:00Z"}"#)
        var proxied = HTTPClient.Configuration()
        proxied.proxy = .server(host: "127.0.0.1", port: proxy.port)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: proxied)
        try await withCleanup {
            // First prove the client goes through the proxy, with a loopback target that would refuse the connection.
            let probe = try await ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.2:9/probe"]),
                httpClient: client,
                attempts: 1
            ).credentials(logger: testLogger)
            #expect(probe.accessKeyID == "ASIARELATIVE")
            try #require(proxy.seen.value.map(\.target) == ["127.0.0.2:9"], "the proxy is not in use: stop before any request could leave loopback")

            let environment = Moto.isolatedEnvironment([
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-1",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": full.url + "/creds",
            ])
            let identity = try await DefaultCredentialChain.make(environment: environment, httpClient: client, logger: testLogger)
                .credentials(logger: testLogger)
            #expect(identity.accessKeyID == "ASIARELATIVE")
            #expect(identity.sessionToken == "token-relative")
            let asked = try #require(proxy.seen.value.last)
            #expect(asked.target == "169.254.170.2:80")
            #expect(asked.method == "GET")
            #expect(asked.uri == "/v2/credentials/task-1")
            #expect(asked.host?.hasPrefix("169.254.170.2") == true, "\(asked)")
            #expect(full.requests.isEmpty)

            // A relative path without its leading slash gets one.
            let unslashed = try await ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/credentials/task-2"]),
                httpClient: client
            ).credentials(logger: testLogger)
            #expect(unslashed.accessKeyID == "ASIARELATIVE")
            #expect(proxy.seen.value.last?.target == "169.254.170.2:80")
            #expect(proxy.seen.value.last?.uri == "/v2/credentials/task-2")
            // Without RELATIVE, FULL is used.
            let direct = try await ContainerCredentialProvider(
                environment: Moto.isolatedEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": full.url + "/creds"]),
                httpClient: HTTPClient.shared
            ).credentials(logger: testLogger)
            #expect(direct.accessKeyID == "ASIAFULL")
            #expect(full.requests.count == 1)
        } cleanup: {
            try await client.shutdown()
            try await proxy.stop()
            try await full.stop()
        }
    }

    @Test("an invalid credential_source names the value and the valid ones, and asks no endpoint")
    func invalidCredentialSource() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "config",
            "[profile bad]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Ec2Metadata\n"
        )
        let sts = try await CredentialEndpoints.webIdentitySTS("UNUSED")
        try await withHTTPClient { client in
            let error = await #expect(throws: CredentialProviderError.self) {
                try await ProfileCredentialProvider(
                    profile: "bad",
                    environment: Moto.isolatedEnvironment([
                        "AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL_STS": sts.url,
                        "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s",
                    ]),
                    httpClient: client
                ).credentials(logger: testLogger)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message == #"credential_source "Ec2Metadata" is not one of Environment, Ec2InstanceMetadata, EcsContainer"#)
        }
        #expect(sts.requests.isEmpty)
        try await sts.stop()
    }
}

/// `credential_source` with every source configured at once: each value signs STS AssumeRole (moto) with the
/// credentials of its own source, seen at a recording forwarder in front of moto.
@Suite("credential_source against moto_server", .enabled(if: Moto.isAvailable))
struct CredentialSourceSelectionTests {
    @Test("Environment, Ec2InstanceMetadata and EcsContainer each take the source they name")
    func eachValueItsSource() async throws {
        let moto = try #require(Moto.url)
        // Forwards to moto and keeps every request (LoopbackHTTPServer records them), Authorization included.
        let forwarder = try await LoopbackHTTPServer.start { request in
            var forwarded = HTTPClientRequest(url: moto + request.uri)
            forwarded.method = HTTPMethod(rawValue: request.method)
            for (name, value) in request.headers where name.lowercased() != "host" { forwarded.headers.add(name: name, value: value) }
            forwarded.body = .bytes(ByteBuffer(bytes: request.body))
            do {
                let response = try await HTTPClient.shared.execute(forwarded, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                return .init(status: Int(response.status.code), headers: [("Content-Type", "text/xml")], body: String(buffer: body))
            } catch {
                return .init(status: 502, body: "moto: \(error)")
            }
        }
        let imds = try await CredentialEndpoints.imds("ASIASOURCEIMDS")
        let container = try await CredentialEndpoints.container("ASIASOURCEECS")
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "config",
            """
            [profile from-env]
            role_arn = arn:aws:iam::123456789012:role/from-env
            credential_source = Environment
            [profile from-imds]
            role_arn = arn:aws:iam::123456789012:role/from-imds
            credential_source = Ec2InstanceMetadata
            [profile from-ecs]
            role_arn = arn:aws:iam::123456789012:role/from-ecs
            credential_source = EcsContainer
            """
        )
        // All three sources at once, so a wrong pick would show.
        let environment = Moto.isolatedEnvironment([
            "AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL_STS": forwarder.url, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIASOURCEENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
            "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + "/creds",
        ])
        try await withHTTPClient { client in
            for (profile, source) in [("from-env", "AKIASOURCEENV"), ("from-imds", "ASIASOURCEIMDS"), ("from-ecs", "ASIASOURCEECS")] {
                let imdsBefore = imds.requests.count
                let containerBefore = container.requests.count
                let identity = try await ProfileCredentialProvider(profile: profile, environment: environment, httpClient: client)
                    .credentials(logger: testLogger)
                // moto's temporary credentials, not the source's own.
                #expect(identity.accessKeyID.hasPrefix("ASIA"), "\(profile): \(identity.accessKeyID)")
                #expect(identity.accessKeyID != source)
                #expect(identity.sessionToken?.isEmpty == false)
                let assume = try #require(forwarder.requests.last)
                #expect(assume.bodyText.contains("Action=AssumeRole"))
                #expect(assume.bodyText.contains("role%2F\(profile)") || assume.bodyText.contains("role/\(profile)"), "\(assume.bodyText)")
                let authorization = assume.header("Authorization") ?? ""
                #expect(authorization.contains("Credential=\(source)/"), "\(profile) signed with: \(authorization)")
                if source != "AKIASOURCEENV" { #expect(assume.header("X-Amz-Security-Token") == "token-\(source)") }
                // Only the named source was asked.
                #expect((imds.requests.count > imdsBefore) == (profile == "from-imds"), "\(profile) asked IMDS: \(imds.requests.count - imdsBefore)")
                #expect((container.requests.count > containerBefore) == (profile == "from-ecs"), "\(profile) asked the container endpoint")
            }
            #expect(forwarder.requests.count == 3)
        }
        try await forwarder.stop()
        try await imds.stop()
        try await container.stop()
    }
}

/// An HTTP proxy on 127.0.0.1 that connects nowhere: it accepts each `CONNECT host:port`, then answers the request
/// sent through the tunnel itself with `answer`, and records the target and the request. A client pointed at it
/// can name any host (169.254.170.2) without a packet leaving loopback.
final class TerminatingProxy: Sendable {
    struct Seen: Sendable {
        var target: String
        var method: String
        var uri: String
        var host: String?
    }

    let port: Int
    /// Every tunnelled request, in arrival order.
    let seen: Locked<[Seen]>
    private let channel: any Channel

    private init(channel: any Channel, seen: Locked<[Seen]>) {
        self.channel = channel
        self.seen = seen
        self.port = channel.localAddress?.port ?? 0
    }

    static func start(answer: String) async throws -> TerminatingProxy {
        let log = Locked<[Seen]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectHandler(log: log, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TerminatingProxy(channel: channel, seen: log)
    }

    func stop() async throws {
        try await channel.close()
    }

    /// Reads the CONNECT head, answers 200, and hands the connection to an HTTP server for the tunnelled request.
    private final class ConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var received = ByteBuffer()
        private let log: Locked<[Seen]>
        private let answer: String

        init(log: Locked<[Seen]>, answer: String) {
            self.log = log
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.writeBuffer(&bytes)
            let text = String(buffer: received)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return }
            let requestLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first.map(String.init) ?? ""
            let parts = requestLine.split(separator: " ")
            guard parts.count == 3, parts[0] == "CONNECT" else {
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection Established\r\nContent-Length: 0\r\n\r\n")), promise: nil)
            do {
                try context.pipeline.syncOperations.configureHTTPServerPipeline()
                try context.pipeline.syncOperations.addHandler(TunnelledRequestHandler(target: String(parts[1]), log: log, answer: answer))
            } catch {
                context.close(promise: nil)
                return
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private final class TunnelledRequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private let target: String
        private let log: Locked<[Seen]>
        private let answer: String
        private var head: HTTPRequestHead?

        init(target: String, log: Locked<[Seen]>, answer: String) {
            self.target = target
            self.log = log
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                log.withLock { $0.append(Seen(target: target, method: head.method.rawValue, uri: head.uri, host: head.headers.first(name: "Host"))) }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(answer.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
