import KinesisAPI

extension RunnerMetrics {
    /// The `error_code` values a series is made for: the codes Kinesis documents for PutRecords and its common
    /// errors, the HTTP fallbacks the client names, and the client's own codes. Codes and shard ids come from the
    /// endpoint's answers: unbounded, they would let a broken or hostile endpoint create a series (and a tally
    /// entry) per made-up value.
    static let knownErrorCodes: Set<String> = [
        // PutRecords / PutRecord.
        "AccessDeniedException", "InternalFailure", "InvalidArgumentException", "KMSAccessDeniedException",
        "KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException", "KMSOptInRequired",
        "KMSThrottlingException", "ProvisionedThroughputExceededException", "ResourceNotFoundException",
        "ResourceInUseException", "LimitExceededException", "ValidationException",
        // Common errors of every AWS JSON API.
        "ExpiredTokenException", "IncompleteSignature", "IncompleteSignatureException", "InternalFailureException",
        "InvalidAction", "InvalidClientTokenId", "InvalidParameterCombination", "InvalidParameterValue",
        "InvalidQueryParameter", "InvalidSignatureException", "MalformedQueryString", "MissingAction",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException", "MissingParameter", "NotAuthorized",
        "OptInRequired", "RequestExpired", "SerializationException", "ServiceUnavailable", "ServiceUnavailableException",
        "ThrottlingException", "UnrecognizedClientException", "ValidationError", "TooManyRequestsException",
        // The client's own.
        "Transport", "Timeout", "Credentials", "InvalidRequest", "InvalidResponse", "ShutdownCancelled",
    ]

    /// The label of anything outside the known values.
    static let otherLabel = "other"

    /// `code` when Kinesis documents it (``knownErrorCodes``), otherwise `other`.
    static func errorCodeLabel(_ code: String) -> String {
        knownErrorCodes.contains(code) ? code : otherLabel
    }

    /// `shardID` when it has Kinesis's form (`shardId-` and 12 digits) and `isKnown` (in a shard map the producer
    /// listed), otherwise `other`.
    static func shardLabel(_ shardID: String, isKnown: (String) -> Bool) -> String {
        let digits = shardID.utf8.dropFirst(8)
        guard shardID.utf8.count == 20, shardID.hasPrefix("shardId-"), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), isKnown(shardID)
        else { return otherLabel }
        return shardID
    }
}
