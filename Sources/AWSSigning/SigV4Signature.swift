/// The result of signing one request: the headers to send, and the intermediate values for diagnostics.
public struct SigV4Signature: Sendable {
    /// `X-Amz-Date`, `X-Amz-Security-Token` (with session credentials) and `Authorization`, in that order.
    public let headersToAdd: [(name: String, value: String)]
    /// The canonical request the signature covers (contains no secret).
    public let canonicalRequest: String
    /// The string to sign (contains no secret).
    public let stringToSign: String
    /// The `;`-separated lowercase names of the signed headers.
    public let signedHeaders: String
    /// The lowercase hex signature.
    public let signature: String

    /// The `Authorization` header value.
    public var authorization: String {
        headersToAdd.last { $0.name == "Authorization" }?.value ?? ""
    }
}
