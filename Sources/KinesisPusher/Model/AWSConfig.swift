/// Which stream, where: the seed's `NewAWSConfig(region, profile, stream)`, plus endpoint and stream ARN.
public struct AWSConfig: Sendable, Hashable {
    /// The region; `nil` resolves `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's region.
    public var region: String?
    /// The shared-file profile; `nil` means `AWS_PROFILE`, else the whole default credential chain.
    public var profile: String?
    /// The stream name.
    public var streamName: String
    /// The stream ARN; when set, requests name the stream by ARN too (AWS's recommendation).
    public var streamARN: String?
    /// A custom endpoint such as `http://127.0.0.1:4567` (KinesisLocal); `nil` resolves
    /// `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL`, then the region's endpoint.
    public var endpoint: String?
    /// A PEM file of the certificate authorities to trust for the endpoint; `nil` resolves `AWS_CA_BUNDLE`, then the
    /// profile's `ca_bundle`, then the system's trust store.
    public var caBundle: String?

    /// The seed's three values, plus the optional ones.
    public init(region: String?, profile: String?, streamName: String, streamARN: String? = nil, endpoint: String? = nil, caBundle: String? = nil) {
        self.region = region
        self.profile = profile
        self.streamName = streamName
        self.streamARN = streamARN
        self.endpoint = endpoint
        self.caBundle = caBundle
    }
}
