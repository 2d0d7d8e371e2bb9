extension KinesisError {
    /// The codes with which Kinesis (or STS) says the request's credentials or signature are not accepted.
    public static let credentialRejectionCodes: Set<String> = [
        "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
        "MissingAuthenticationTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredTokenException",
        "AccessDeniedException", "AccessDenied",
    ]

    /// The codes with which the stream's KMS key makes every write fail until someone fixes the key.
    static let unusableKeyCodes: Set<String> = [
        "KMSDisabledException", "KMSInvalidStateException", "KMSAccessDeniedException", "KMSNotFoundException",
        "KMSOptInRequired",
    ]

    /// Kinesis refused the request's credentials or signature.
    public var rejectsCredentials: Bool { Self.credentialRejectionCodes.contains(code.rawValue) }

    /// After this error no write to the stream can succeed (missing stream, no access, credentials rejected or
    /// missing, unusable KMS key): a producer stops instead of retrying until its records expire.
    ///
    /// Not among them: a credential source that fails for now (``Code/credentialsUnavailable``), and
    /// `ExpiredTokenException`, which means "refresh and try again" even when it comes twice in a row (a source
    /// that hands out stale credentials during an outage).
    public var stopsStream: Bool {
        code == .credentials || code == .resourceNotFound || code == .accessDenied
            || (rejectsCredentials && code != .expiredToken) || Self.unusableKeyCodes.contains(code.rawValue)
    }
}
