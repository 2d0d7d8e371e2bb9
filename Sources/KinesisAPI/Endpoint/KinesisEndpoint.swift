import Foundation

/// Where Kinesis requests go: scheme, host and port.
///
/// Either resolved from a region through the partition table (aws, aws-cn, aws-us-gov and the isolated
/// partitions, with FIPS and dual-stack variants), or a custom URL such as `http://127.0.0.1:4567`.
public struct KinesisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host name or address (IPv6 without brackets).
    public var host: String
    /// The port; `nil` means the scheme's default.
    public var port: Int?

    /// Creates an endpoint from its parts.
    public init(scheme: String, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses a custom endpoint URL (`http://127.0.0.1:4567`, `https://kinesis.example.com`).
    public init(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw KinesisError(
                code: .invalidRequest,
                message: "endpoint '\(text)' is not an http or https URL with a host",
                operation: "ResolveEndpoint"
            )
        }
        if let path = Optional(components.path), !path.isEmpty, path != "/" {
            throw KinesisError(
                code: .invalidRequest,
                message: "endpoint '\(text)' has a path; Kinesis endpoints are a scheme, host and port only",
                operation: "ResolveEndpoint"
            )
        }
        self.init(scheme: scheme, host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: components.port)
    }

    private var defaultPort: Int { scheme == "https" ? 443 : 80 }

    /// The `Host` header value: the host, plus `:port` only for a non-default port; this is what gets signed.
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let port, port != defaultPort else { return bracketed }
        return "\(bracketed):\(port)"
    }

    /// The URL requests are posted to.
    public var url: String { "\(scheme)://\(hostHeader)/" }

    public var description: String { url }

    /// The regional endpoint for `region`, with FIPS and dual-stack variants as each partition names them.
    public static func resolve(region: String, useFIPS: Bool = false, useDualStack: Bool = false) throws -> KinesisEndpoint {
        guard !region.isEmpty, region.utf8.allSatisfy({ byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
        }) else {
            throw KinesisError(
                code: .invalidRequest,
                message: "region '\(region)' is not a valid region name (lowercase letters, digits and '-')",
                operation: "ResolveEndpoint"
            )
        }
        let partition = AWSPartition.of(region: region)
        let service = useFIPS ? "kinesis-fips" : "kinesis"
        let host: String
        switch (useFIPS, useDualStack) {
        case (false, false):
            host = "kinesis.\(region).\(partition.dnsSuffix)"
        case (true, false):
            // GovCloud's standard host is already FIPS-validated; the partition table special-cases it.
            host = partition.name == "aws-us-gov" ? "kinesis.\(region).\(partition.dnsSuffix)" : "\(service).\(region).\(partition.dnsSuffix)"
        case (_, true):
            guard let dualStackSuffix = partition.dualStackDNSSuffix else {
                throw KinesisError(
                    code: .invalidRequest,
                    message: "partition \(partition.name) (region \(region)) has no dual-stack endpoints",
                    operation: "ResolveEndpoint"
                )
            }
            host = "\(service).\(region).\(dualStackSuffix)"
        }
        return KinesisEndpoint(scheme: "https", host: host)
    }
}
