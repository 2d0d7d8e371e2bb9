import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Backoff
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A Kinesis Data Streams client speaking the JSON 1.1 protocol over pooled keep-alive HTTP connections.
///
/// Every attempt is signed anew with SigV4. Throttled and transient failures are retried with jittered backoff
/// up to ``Configuration/Retry/maxAttempts``; an `ExpiredTokenException` or a rejection of the credentials
/// (`UnrecognizedClientException`, `InvalidSignatureException`, …) drops the cached credentials and retries once
/// with freshly fetched ones. Every failure surfaces as a ``KinesisError``; a credential source that fails for now
/// as a retryable ``KinesisError/Code/credentialsUnavailable``.
///
/// Create one client per process and share it. A client that created its own `HTTPClient` must be shut down with
/// ``shutdown()``.
public final class KinesisClient: Sendable {
    /// The settings in force.
    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let credentialProvider: any CredentialProvider
    private let signer: SigV4Signer
    let logger: Logger
    /// How far the server's clock is ahead of ours, learned from a "Signature expired" answer.
    private let clockOffset = Mutex<TimeInterval>(0)
    /// Our clock; replaceable in tests.
    private let now: @Sendable () -> Date
    /// Draws the retry jitter (seeded by ``Configuration/Retry/jitterSeed``).
    private let jitter: Mutex<SplitMix64>

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: Region, endpoint, timeouts, retries.
    ///   - credentialProvider: Where credentials come from, for example ``DefaultCredentialChain/make(staticCredentials:profile:environment:httpClient:logger:)``.
    ///   - httpClient: A client to share; when `nil`, the Kinesis client creates its own, sized by
    ///     ``Configuration/http``, and ``shutdown()`` must be called.
    ///   - logger: For request-level debug logs and retries.
    public convenience init(
        configuration: Configuration,
        credentialProvider: any CredentialProvider,
        httpClient: HTTPClient? = nil,
        logger: Logger
    ) {
        self.init(configuration: configuration, credentialProvider: credentialProvider, httpClient: httpClient, logger: logger, now: { Date() })
    }

    /// A client with its own clock, for testing clock-skew correction.
    package init(
        configuration: Configuration,
        credentialProvider: any CredentialProvider,
        httpClient: HTTPClient? = nil,
        logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.now = now
        self.configuration = configuration
        self.jitter = Mutex(SplitMix64(seed: configuration.retry.jitterSeed))
        self.credentialProvider = credentialProvider
        self.logger = logger
        self.signer = SigV4Signer(service: "kinesis", region: configuration.region)
        if let httpClient {
            self.httpClient = httpClient
            self.ownsHTTPClient = false
        } else {
            self.httpClient = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: Self.httpConfiguration(configuration.http),
                backgroundActivityLogger: logger
            )
            self.ownsHTTPClient = true
        }
    }

    /// The `HTTPClient` settings matching ``Configuration/HTTP``, for callers that create a shared client.
    ///
    /// Redirects are never followed: Kinesis does not send them, and a signed request (its credentials scope,
    /// its body) must not be replayed to wherever an endpoint points, so a 3xx is an error answer like any other.
    /// A caller-supplied `HTTPClient` should be configured the same way.
    public static func httpConfiguration(_ http: Configuration.HTTP) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: TimeAmount(http.connectTimeout), read: TimeAmount(http.requestTimeout))
        configuration.connectionPool = .init(
            idleTimeout: TimeAmount(http.idleTimeout),
            concurrentHTTP1ConnectionsPerHostSoftLimit: http.maxConnections
        )
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        if let caBundle = http.caBundlePath {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caBundle)
            configuration.tlsConfiguration = tls
        }
        return configuration
    }

    /// A process-wide `HTTPClient` with ``httpConfiguration(_:)``'s defaults, never shut down: the one to share
    /// between Kinesis clients instead of `HTTPClient.shared`, which follows redirects.
    public static let sharedHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration(.init()))

    private static let sharedByCABundle = Mutex<[String: HTTPClient]>([:])

    /// Like ``sharedHTTPClient``, but trusting the certificate authorities of `caBundlePath` instead of the system's
    /// (``Configuration/HTTP/caBundlePath``); one per bundle for the process, never shut down. `nil` is
    /// ``sharedHTTPClient``.
    public static func sharedHTTPClient(trusting caBundlePath: String?) -> HTTPClient {
        guard let caBundlePath else { return sharedHTTPClient }
        return sharedByCABundle.withLock { clients in
            if let client = clients[caBundlePath] { return client }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration(.init(caBundlePath: caBundlePath)))
            clients[caBundlePath] = client
            return client
        }
    }

    /// Shuts down the HTTP client if this client created it; a shared one is left alone.
    public func shutdown() async throws {
        if ownsHTTPClient { try await httpClient.shutdown() }
    }

    /// Sends one operation with retries and decodes the answer.
    func call<Response: Decodable>(_ operation: String, body: ByteBuffer, as type: Response.Type) async throws -> Response {
        try Self.decode(Response.self, answer: try await send(operation, body: body), operation: operation)
    }

    /// Decodes the body of a 200 answer; one that does not decode is a fatal `InvalidResponse`.
    package static func decode<Response: Decodable>(_ type: Response.Type, answer: ByteBuffer, operation: String) throws(KinesisError) -> Response {
        do {
            return try JSONDecoder().decode(Response.self, from: Data(answer.readableBytesView))
        } catch {
            throw KinesisError(
                code: .invalidResponse,
                message: "cannot read the \(operation) answer: \(error)",
                operation: operation,
                httpStatus: 200,
                retryClass: .fatal,
                underlying: error
            )
        }
    }

    /// Sends one operation with retries; returns the body of the 200 answer.
    func send(_ operation: String, body: ByteBuffer) async throws -> ByteBuffer {
        var attempt = 0
        var refreshedCredentials = false
        var correctedClock = false
        while true {
            attempt += 1
            do {
                return try await sendOnce(operation, body: body)
            } catch let error as KinesisError {
                if !correctedClock, error.code == .invalidSignature || error.code.rawValue == "RequestExpired",
                    error.message.contains("expired") || error.code.rawValue == "RequestExpired", let serverDate = error.serverDate
                {
                    // Our clock is off by more than Kinesis tolerates (5 minutes): sign with the server's time instead.
                    correctedClock = true
                    let offset = serverDate.timeIntervalSince(now())
                    clockOffset.withLock { $0 = offset }
                    logger.warning(
                        "clock skew: signing with the server's time",
                        metadata: ["kinesis.operation": "\(operation)", "kinesis.clock.offset_s": "\(Int(offset))"]
                    )
                    continue
                }
                // "Signature expired" is our clock, not the keys (corrected above when the server's time is known).
                let keysRejected = error.rejectsCredentials && !error.message.contains("Signature expired")
                if error.retryClass == .refreshCredentials || keysRejected, !refreshedCredentials {
                    // Rotated or revoked keys: only a rejection of freshly fetched credentials is final.
                    refreshedCredentials = true
                    credentialProvider.invalidate()
                    logger.notice(
                        error.retryClass == .refreshCredentials
                            ? "credentials expired; retrying with refreshed ones"
                            : "credentials rejected; retrying once with freshly fetched ones",
                        metadata: ["kinesis.operation": "\(operation)", "kinesis.error.code": "\(error.code)"]
                    )
                    continue
                }
                guard error.retryClass.isRetryable, error.retryClass != .refreshCredentials,
                    attempt < configuration.retry.maxAttempts
                else { throw error }
                let delay = jitter.withLock { configuration.retry.backoff.delay(afterAttempt: attempt, using: &$0) }
                logger.debug(
                    "retrying",
                    metadata: [
                        "kinesis.operation": "\(operation)", "kinesis.retry.attempt": "\(attempt)",
                        "kinesis.error.code": "\(error.code)", "kinesis.retry.delay": "\(delay)",
                    ]
                )
                try await Task.sleep(for: delay)
            }
        }
    }

    private func sendOnce(_ operation: String, body: ByteBuffer) async throws -> ByteBuffer {
        let identity: AWSCredentialIdentity
        do {
            identity = try await credentialProvider.credentials(logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch {
            let transient = (error as? CredentialProviderError)?.isTransient ?? false
            throw KinesisError(
                code: transient ? .credentialsUnavailable : .credentials,
                message: "\(error)",
                operation: operation,
                retryClass: transient ? .transient : .fatal,
                underlying: error
            )
        }

        let endpoint = configuration.endpoint
        var headers: [(name: String, value: String)] = [
            ("Host", endpoint.hostHeader),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.\(operation)"),
        ]
        let payloadHash = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        let signature = signer.sign(
            method: "POST",
            headers: headers,
            payloadHash: payloadHash,
            credentials: identity,
            date: now().addingTimeInterval(clockOffset.withLock { $0 })
        )
        headers += signature.headersToAdd
        headers.append(("User-Agent", configuration.userAgent))

        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers = HTTPHeaders(headers)
        request.body = .bytes(body)

        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            let deadline = NIODeadline.now() + TimeAmount(configuration.http.requestTimeout)
            response = try await httpClient.execute(request, deadline: deadline, logger: logger)
            answer = try await response.body.collect(upTo: configuration.http.maxResponseBytes)
        } catch {
            throw transportError(error, operation: operation)
        }
        guard response.status == .ok else {
            let error = ErrorResponse.decode(status: response.status, headers: response.headers, body: answer, operation: operation)
            logger.debug(
                "Kinesis error answer",
                metadata: [
                    "kinesis.operation": "\(operation)", "kinesis.error.code": "\(error.code)",
                    "kinesis.http.status": "\(response.status.code)",
                ]
            )
            throw error
        }
        return answer
    }

    private func transportError(_ error: any Error, operation: String) -> KinesisError {
        let endpoint = configuration.endpoint.url
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout:
                return KinesisError(
                    code: .timeout,
                    message: "no answer from \(endpoint) within \(configuration.http.requestTimeout)",
                    operation: operation,
                    underlying: error
                )
            case .connectTimeout:
                return KinesisError(
                    code: .transport,
                    message: "cannot connect to \(endpoint) within \(configuration.http.connectTimeout)",
                    operation: operation,
                    underlying: error
                )
            default:
                break
            }
        }
        if error is NIOTooManyBytesError {
            return KinesisError(
                code: .invalidResponse,
                message: "answer from \(endpoint) is larger than \(configuration.http.maxResponseBytes) bytes",
                operation: operation,
                retryClass: .fatal,
                underlying: error
            )
        }
        if error is CancellationError {
            return KinesisError(code: .transport, message: "cancelled", operation: operation, retryClass: .fatal, underlying: error)
        }
        var reason = "\(error)"
        if let error = error as? IOError {
            // NIO's description repeats itself ("connection reset (error set): Connection refused) (errno: 111)").
            reason = String(cString: strerror(error.errnoCode)).lowercased()
        }
        return KinesisError(
            code: .transport,
            message: "cannot reach \(endpoint): \(reason)",
            operation: operation,
            underlying: error
        )
    }
}
