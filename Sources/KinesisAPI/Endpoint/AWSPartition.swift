/// The AWS partitions and their DNS suffixes (from botocore's `partitions.json`).
struct AWSPartition: Sendable {
    let name: String
    let dnsSuffix: String
    let dualStackDNSSuffix: String?

    static let aws = AWSPartition(name: "aws", dnsSuffix: "amazonaws.com", dualStackDNSSuffix: "api.aws")
    static let china = AWSPartition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn", dualStackDNSSuffix: "api.amazonwebservices.com.cn")
    static let govCloud = AWSPartition(name: "aws-us-gov", dnsSuffix: "amazonaws.com", dualStackDNSSuffix: "api.aws")
    static let iso = AWSPartition(name: "aws-iso", dnsSuffix: "c2s.ic.gov", dualStackDNSSuffix: nil)
    static let isoB = AWSPartition(name: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", dualStackDNSSuffix: nil)
    static let isoE = AWSPartition(name: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", dualStackDNSSuffix: nil)
    static let isoF = AWSPartition(name: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", dualStackDNSSuffix: nil)
    static let eusc = AWSPartition(name: "aws-eusc", dnsSuffix: "amazonaws.eu", dualStackDNSSuffix: nil)

    /// The partition a region belongs to; unknown names fall to `aws`, as botocore does.
    static func of(region: String) -> AWSPartition {
        if region.hasPrefix("cn-") { return .china }
        if region.hasPrefix("us-gov-") { return .govCloud }
        if region.hasPrefix("us-isob-") { return .isoB }
        if region.hasPrefix("us-isof-") || region.hasPrefix("eu-isof-") { return .isoF }
        if region.hasPrefix("us-iso-") { return .iso }
        if region.hasPrefix("eu-isoe-") { return .isoE }
        if region.hasPrefix("eusc-") { return .eusc }
        return .aws
    }
}
