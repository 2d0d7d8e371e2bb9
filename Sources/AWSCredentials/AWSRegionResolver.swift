/// Finds the AWS region: an explicit value, then `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's
/// `region` in the shared config file.
public enum AWSRegionResolver {
    /// The region, or an error naming every place that was looked at.
    public static func resolve(
        explicit: String? = nil,
        profile: String? = nil,
        environment: [String: String] = ProcessEnvironment.current
    ) throws -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let region = regionFromEnvironment(environment) { return region }
        let profileName = profile ?? AWSSharedConfiguration.selectedProfileName(environment: environment)
        let configuration = try AWSSharedConfiguration.load(environment: environment)
        if let region = configuration.profiles[profileName]?["region"], !region.isEmpty { return region }
        let paths = AWSSharedConfiguration.filePaths(environment: environment)
        throw CredentialProviderError(
            .invalidConfiguration,
            provider: "region",
            message: "no region: pass one explicitly (--region), set AWS_REGION or AWS_DEFAULT_REGION, "
                + "or set region in profile \"\(profileName)\" of \(paths.config)"
        )
    }

    static func regionFromEnvironment(_ environment: [String: String]) -> String? {
        environment.nonEmpty("AWS_REGION") ?? environment.nonEmpty("AWS_DEFAULT_REGION")
    }
}
