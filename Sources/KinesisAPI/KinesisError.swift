import Foundation

/// Any failure of a Kinesis call: a service error, a transport failure, missing credentials, a bad request.
///
/// ``code`` is the Kinesis error code as AWS sends it (`ResourceNotFoundException`) or a client-side code
/// (`Transport`, `Timeout`, …); ``retryClass`` says what a caller should do about it.
public struct KinesisError: Error, Sendable, CustomStringConvertible {
    /// An error code; extensible, compared by its string.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The code as AWS spells it (`ResourceNotFoundException`) or a client-side code (`Transport`).
        public var rawValue: String
        /// A code from its string.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A code from a string literal.
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        // Kinesis's own codes (see the protocol reference's error table for what each means).
        /// The stream (or shard) does not exist.
        public static let resourceNotFound: Code = "ResourceNotFoundException"
        /// The stream is not ACTIVE (creating, updating, deleting).
        public static let resourceInUse: Code = "ResourceInUseException"
        /// A request member is invalid.
        public static let invalidArgument: Code = "InvalidArgumentException"
        /// A request member breaks the model's constraints.
        public static let validation: Code = "ValidationException"
        /// A shard's write (or read) limit was exceeded.
        public static let provisionedThroughputExceeded: Code = "ProvisionedThroughputExceededException"
        /// A control-plane rate or a resource quota was exceeded.
        public static let limitExceeded: Code = "LimitExceededException"
        /// Kinesis failed a record or a request internally.
        public static let internalFailure: Code = "InternalFailure"
        /// The session credentials expired.
        public static let expiredToken: Code = "ExpiredTokenException"
        /// The signature did not verify (wrong secret, or clock skew over 5 minutes).
        public static let invalidSignature: Code = "InvalidSignatureException"
        /// The access key or session token is unknown.
        public static let unrecognizedClient: Code = "UnrecognizedClientException"
        /// IAM refused the action.
        public static let accessDenied: Code = "AccessDeniedException"
        /// KMS throttled the encryption of an encrypted stream.
        public static let kmsThrottling: Code = "KMSThrottlingException"
        /// A shard iterator older than 5 minutes.
        public static let expiredIterator: Code = "ExpiredIteratorException"
        /// A ListShards page token older than 300 seconds.
        public static let expiredNextToken: Code = "ExpiredNextTokenException"

        /// The request never got an answer: connection refused or reset, DNS failure, TLS failure.
        public static let transport: Code = "Transport"
        /// No answer within the request timeout (the request may still have taken effect).
        public static let timeout: Code = "Timeout"
        /// No credentials could be had, and retrying cannot help (nothing configured, a broken configuration, a
        /// source that refuses); ``KinesisError/underlying`` is the provider's error.
        public static let credentials: Code = "Credentials"
        /// The credential source failed for now (timeout, refused connection, HTTP 5xx, malformed answer): retry
        /// later; ``KinesisError/underlying`` is the provider's error.
        public static let credentialsUnavailable: Code = "CredentialsUnavailable"
        /// The request was refused before sending (for example 0 or more than 500 records).
        public static let invalidRequest: Code = "InvalidRequest"
        /// A 200 answer that could not be read.
        public static let invalidResponse: Code = "InvalidResponse"
    }

    /// What a caller should do about an error.
    public struct RetryClass: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: Hashable, Sendable { case throttled, transient, refreshCredentials, fatal }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The service is throttling: retry later, and send less.
        public static let throttled = RetryClass(.throttled)
        /// A passing fault (5xx, connection reset, timeout): retry with backoff.
        public static let transient = RetryClass(.transient)
        /// The credentials expired: refresh them, then retry.
        public static let refreshCredentials = RetryClass(.refreshCredentials)
        /// Retrying the same request cannot help.
        public static let fatal = RetryClass(.fatal)

        /// Whether the same request may succeed later.
        public var isRetryable: Bool { backing != .fatal }

        public var description: String {
            switch backing {
            case .throttled: "throttled"
            case .transient: "transient"
            case .refreshCredentials: "refreshCredentials"
            case .fatal: "fatal"
            }
        }
    }

    /// The error code.
    public var code: Code
    /// The service's (or the client's) explanation.
    public var message: String
    /// The operation that failed, for example `PutRecords`.
    public var operation: String
    /// The HTTP status, when an answer came.
    public var httpStatus: Int?
    /// `x-amzn-RequestId` of the answer, for AWS support.
    public var requestID: String?
    /// What to do about it.
    public var retryClass: RetryClass
    /// The error underneath (transport, credentials, decoding), if any.
    public var underlying: (any Error)?
    /// The answer's `Date` header: the server's clock, for correcting skew.
    package var serverDate: Date?

    /// Creates an error; the retry class defaults to the classification of `code` and `httpStatus`.
    public init(
        code: Code,
        message: String,
        operation: String,
        httpStatus: Int? = nil,
        requestID: String? = nil,
        retryClass: RetryClass? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.httpStatus = httpStatus
        self.requestID = requestID
        self.retryClass = retryClass ?? Self.classify(code: code, httpStatus: httpStatus)
        self.underlying = underlying
    }

    public var description: String {
        var text = "Kinesis \(operation) failed: \(code.rawValue)"
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let requestID { details.append("request id \(requestID)") }
        if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        if !message.isEmpty { text += ": " + message }
        return text
    }

    static let throttlingCodes: Set<String> = [
        "ProvisionedThroughputExceededException", "KMSThrottlingException", "LimitExceededException",
        "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException", "ThrottledException",
        "RequestThrottledException", "TransactionInProgressException", "BandwidthLimitExceeded", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "InternalFailure", "InternalFailureException", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
        "RequestTimeout", "RequestTimeoutException", "ResourceInUseException", "Transport", "Timeout",
        "CredentialsUnavailable",
    ]

    /// The reference's error table: throttles, transient faults, expired credentials, and everything else fatal.
    public static func classify(code: Code, httpStatus: Int?) -> RetryClass {
        if throttlingCodes.contains(code.rawValue) || httpStatus == 429 { return .throttled }
        if code == .expiredToken || code.rawValue == "RequestExpired" { return .refreshCredentials }
        if transientCodes.contains(code.rawValue) { return .transient }
        if let httpStatus, [500, 502, 503, 504].contains(httpStatus) { return .transient }
        return .fatal
    }
}
