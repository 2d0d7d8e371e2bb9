/// A Kinesis resource ARN as requests carry it: `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`, or a consumer's
/// `…:stream/NAME/consumer/CONSUMER:CREATED`.
struct KinesisARN: Equatable {
    enum Resource: Equatable {
        case stream(String)
        case consumer(stream: String, name: String, created: String)
    }

    var partition: String
    var region: String
    var account: String
    var resource: Resource

    init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "kinesis", !parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy(\.isASCIIDigit), parts[5].hasPrefix("stream/")
        else { return nil }
        partition = parts[1]
        region = parts[3]
        account = parts[4]
        let path = parts[5].dropFirst("stream/".count)
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        switch segments.count {
        case 1 where !segments[0].isEmpty:
            resource = .stream(String(segments[0]))
        case 3 where segments[1] == "consumer" && !segments[0].isEmpty:
            let consumer = segments[2].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard consumer.count == 2, !consumer[0].isEmpty, !consumer[1].isEmpty, consumer[1].allSatisfy(\.isASCIIDigit) else {
                return nil
            }
            resource = .consumer(stream: String(segments[0]), name: String(consumer[0]), created: String(consumer[1]))
        default:
            return nil
        }
    }

    /// The stream the ARN names, itself or as a consumer's stream.
    var streamName: String {
        switch resource {
        case .stream(let name), .consumer(let name, _, _): name
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
