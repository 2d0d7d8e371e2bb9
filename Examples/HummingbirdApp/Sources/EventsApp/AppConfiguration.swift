import Logging

/// What the app reads from its environment; every name is in the example's README.
struct AppConfiguration: Sendable {
    /// The Kinesis stream events go to (`KINESIS_STREAM`, required).
    var stream: String
    /// `AWS_REGION` (then `AWS_DEFAULT_REGION` and the profile's region, resolved by the runner when nil).
    var region: String?
    /// `AWS_ENDPOINT_URL_KINESIS` (then `AWS_ENDPOINT_URL`, else the region's endpoint, resolved by the runner
    /// when nil), e.g. `http://127.0.0.1:4567` for `kinesis-pusher local`.
    var endpoint: String?
    /// Where the HTTP server listens (`HOST`, `PORT`; default 127.0.0.1:8080).
    var host = "127.0.0.1"
    var port = 8080
    /// The JSON field that holds the partition key when the request has no `Partition-Key` header
    /// (`PARTITION_KEY_FIELD`, default `partitionKey`).
    var partitionKeyField = "partitionKey"
    /// Records that may wait for Kinesis before `POST /events` waits for room (`BUFFER_SIZE`, default 10,000).
    var bufferSize = 10_000
    /// Basic Auth for `/metrics` (`METRICS_USER` and `METRICS_PASSWORD`; open when unset).
    var metricsUser: String?
    var metricsPassword: String?
    /// `LOG_LEVEL`: trace, debug, info (default), notice, warning, error, critical.
    var logLevel = Logger.Level.info

    init(stream: String, region: String? = nil, endpoint: String? = nil) {
        self.stream = stream
        self.region = region
        self.endpoint = endpoint
    }

    /// Reads the environment; throws a message naming the variable that is missing or malformed.
    init(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return number
        }
        guard let stream = value("KINESIS_STREAM") else {
            throw ConfigurationError("KINESIS_STREAM is not set: name the stream to send events to")
        }
        self.init(stream: stream, region: value("AWS_REGION"), endpoint: value("AWS_ENDPOINT_URL_KINESIS"))
        host = value("HOST") ?? host
        port = try integer("PORT", in: 0...65535) ?? port
        partitionKeyField = value("PARTITION_KEY_FIELD") ?? partitionKeyField
        bufferSize = try integer("BUFFER_SIZE", in: 1...1_000_000) ?? bufferSize
        metricsUser = value("METRICS_USER")
        metricsPassword = value("METRICS_PASSWORD")
        guard (metricsUser == nil) == (metricsPassword == nil) else {
            throw ConfigurationError("set both METRICS_USER and METRICS_PASSWORD, or neither")
        }
        if let level = value("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(level)'")
            }
            logLevel = parsed
        }
    }
}

/// A configuration mistake, said in one line.
struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
