import Foundation

/// The profiles of the shared AWS files, `~/.aws/config` and `~/.aws/credentials`, merged.
///
/// Rules (as the AWS CLI and SDKs apply them): in the config file a profile is `[default]`, `[profile default]` or
/// `[profile NAME]`, and other sections (`[sso-session x]`, `[services x]`, a bare `[NAME]`) are not profiles; in
/// the credentials file a profile is `[NAME]`. Keys are case-insensitive. When both files set the same key of the
/// same profile, the credentials file wins. `#` and `;` start comments; an indented line after `key =` belongs to a
/// sub-section and is kept out of the profile's plain keys.
public struct AWSSharedConfiguration: Sendable, Equatable {
    /// One profile: its keys (lowercased) and values.
    public typealias Profile = [String: String]

    /// Every profile by name.
    public var profiles: [String: Profile]

    /// Creates a configuration from parsed profiles.
    public init(profiles: [String: Profile] = [:]) {
        self.profiles = profiles
    }

    /// Parses the text of the two files.
    public init(configFile: String?, credentialsFile: String?) {
        var profiles: [String: Profile] = [:]
        if let configFile {
            for (name, keys) in Self.parse(configFile, isConfigFile: true) {
                profiles[name, default: [:]].merge(keys) { _, new in new }
            }
        }
        if let credentialsFile {
            for (name, keys) in Self.parse(credentialsFile, isConfigFile: false) {
                profiles[name, default: [:]].merge(keys) { _, credentials in credentials }
            }
        }
        self.profiles = profiles
    }

    /// Reads the files named by `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, or `~/.aws/config` and
    /// `~/.aws/credentials`. A missing file counts as empty; an unreadable one is an error.
    public static func load(environment: [String: String]) throws -> AWSSharedConfiguration {
        let paths = filePaths(environment: environment)
        return AWSSharedConfiguration(
            configFile: try readIfPresent(paths.config),
            credentialsFile: try readIfPresent(paths.credentials)
        )
    }

    /// The profile name in force: `AWS_PROFILE`, then `AWS_DEFAULT_PROFILE`, then `default`.
    public static func selectedProfileName(environment: [String: String]) -> String {
        environment.nonEmpty("AWS_PROFILE") ?? environment.nonEmpty("AWS_DEFAULT_PROFILE") ?? "default"
    }

    /// Where the two files are looked for.
    public static func filePaths(environment: [String: String]) -> (config: String, credentials: String) {
        let home = environment.nonEmpty("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        }
        return (
            expand(environment.nonEmpty("AWS_CONFIG_FILE") ?? "~/.aws/config"),
            expand(environment.nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
        )
    }

    private static func readIfPresent(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: "shared config",
                message: "cannot read \(path): \(error.localizedDescription)",
                underlying: error
            )
        }
    }

    static func parse(_ text: String, isConfigFile: Bool) -> [(String, Profile)] {
        var result: [(String, Profile)] = []
        var current: (name: String, keys: Profile)?
        var inSubSection = false

        func finish() {
            if let current { result.append((current.name, current.keys)) }
            current = nil
        }

        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }

            if trimmed.hasPrefix("[") {
                finish()
                inSubSection = false
                guard let close = trimmed.firstIndex(of: "]") else { continue }
                let header = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .trimmingCharacters(in: .whitespaces)
                if let name = profileName(fromSection: header, isConfigFile: isConfigFile) {
                    current = (name, [:])
                }
                continue
            }

            let isIndented = line.first == " " || line.first == "\t"
            if isIndented && inSubSection { continue }
            guard current != nil, let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = stripInlineComment(trimmed[trimmed.index(after: equals)...])
                .trimmingCharacters(in: .whitespaces)
            if key.isEmpty { continue }
            if isIndented { continue }
            // `s3 =` with nothing after it opens a sub-section of indented lines.
            inSubSection = value.isEmpty
            if !inSubSection { current?.keys[key] = value }
        }
        finish()
        return result
    }

    private static func profileName(fromSection header: String, isConfigFile: Bool) -> String? {
        guard isConfigFile else { return header.isEmpty ? nil : header }
        if header == "default" { return "default" }
        let parts = header.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0] == "profile" else { return nil }
        let name = parts[1].trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }

    /// A `#` or `;` preceded by whitespace starts a comment on a value line.
    private static func stripInlineComment(_ value: Substring) -> Substring {
        var previous: Character = " "
        for index in value.indices {
            let character = value[index]
            if (character == "#" || character == ";") && (previous == " " || previous == "\t") && index != value.startIndex {
                return value[..<index]
            }
            previous = character
        }
        return value
    }
}
