/// Names a stream by name, by ARN, or both (AWS recommends the ARN).
public struct StreamIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The stream name, 1–128 characters of `[a-zA-Z0-9_.-]`.
    public var name: String?
    /// The stream ARN, `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`.
    public var arn: String?

    /// A stream by name.
    public static func name(_ name: String) -> StreamIdentifier { StreamIdentifier(name: name, arn: nil) }
    /// A stream by ARN.
    public static func arn(_ arn: String) -> StreamIdentifier { StreamIdentifier(name: nil, arn: arn) }

    /// Either or both parts.
    public init(name: String?, arn: String?) {
        self.name = name
        self.arn = arn
    }

    public var description: String { arn ?? name ?? "<no stream>" }
}
