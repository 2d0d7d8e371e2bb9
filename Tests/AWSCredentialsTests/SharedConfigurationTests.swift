import AWSCredentials
import Foundation
import Testing

@Suite("Shared config and credentials files")
struct SharedConfigurationTests {
    @Test("config file sections need the profile prefix; credentials file sections must not have it")
    func sectionRules() {
        let configuration = AWSSharedConfiguration(
            configFile: """
                [default]
                region = us-east-1
                [profile dev]
                region = eu-west-1
                [profile default]
                output = json
                [bare]
                region = ignored-1
                [sso-session corp]
                sso_region = ignored-2
                [services local]
                kinesis =
                  endpoint_url = http://127.0.0.1:4567
                """,
            credentialsFile: """
                [default]
                aws_access_key_id = AKIADEFAULT
                aws_secret_access_key = secret-default
                [dev]
                aws_access_key_id = AKIADEV
                aws_secret_access_key = secret-dev
                [profile weird]
                aws_access_key_id = AKIAWEIRD
                """
        )
        #expect(configuration.profiles["default"]?["region"] == "us-east-1")
        #expect(configuration.profiles["default"]?["output"] == "json")
        #expect(configuration.profiles["default"]?["aws_access_key_id"] == "AKIADEFAULT")
        #expect(configuration.profiles["dev"]?["region"] == "eu-west-1")
        #expect(configuration.profiles["dev"]?["aws_secret_access_key"] == "secret-dev")
        #expect(configuration.profiles["bare"] == nil)
        #expect(configuration.profiles["corp"] == nil)
        #expect(configuration.profiles["local"] == nil)
        // In the credentials file the section name is taken literally.
        #expect(configuration.profiles["profile weird"]?["aws_access_key_id"] == "AKIAWEIRD")
    }

    @Test("the credentials file wins over the config file for the same key")
    func credentialsFileWins() {
        let configuration = AWSSharedConfiguration(
            configFile: "[profile p]\naws_access_key_id = FROM-CONFIG\nregion = us-west-2\n",
            credentialsFile: "[p]\naws_access_key_id = FROM-CREDENTIALS\n"
        )
        #expect(configuration.profiles["p"]?["aws_access_key_id"] == "FROM-CREDENTIALS")
        #expect(configuration.profiles["p"]?["region"] == "us-west-2")
    }

    @Test("comments, case-insensitive keys, spacing and sub-sections")
    func lexicalRules() {
        let configuration = AWSSharedConfiguration(
            configFile: """
                # a comment
                ; another
                [ profile  spaced ]
                Region=ap-south-1   # trailing comment
                S3 =
                  max_concurrent_requests = 20
                  region = not-this
                role_arn = arn:aws:iam::123456789012:role/R;not-a-comment
                """,
            credentialsFile: nil
        )
        let profile = configuration.profiles["spaced"]
        #expect(profile?["region"] == "ap-south-1")
        #expect(profile?["s3"] == nil)
        #expect(profile?["max_concurrent_requests"] == nil)
        #expect(profile?["role_arn"] == "arn:aws:iam::123456789012:role/R;not-a-comment")
    }

    @Test("files are found through AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE; missing files are empty")
    func loadFromEnvironment() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("config", "[profile x]\nregion = sa-east-1\n")
        let credentials = try directory.write("creds", "[x]\naws_access_key_id = A\naws_secret_access_key = S\n")
        let loaded = try AWSSharedConfiguration.load(environment: [
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": "/nonexistent",
        ])
        #expect(loaded.profiles["x"] == ["region": "sa-east-1", "aws_access_key_id": "A", "aws_secret_access_key": "S"])
        let empty = try AWSSharedConfiguration.load(environment: ["HOME": directory.path])
        #expect(empty.profiles.isEmpty)
    }

    @Test("region resolution order: explicit, AWS_REGION, AWS_DEFAULT_REGION, profile")
    func regionOrder() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("config", "[default]\nregion = eu-north-1\n[profile other]\nregion = ap-east-1\n")
        let base = ["AWS_CONFIG_FILE": config, "HOME": "/nonexistent"]
        #expect(try AWSRegionResolver.resolve(explicit: "us-west-1", environment: base.merging(["AWS_REGION": "x"]) { $1 }) == "us-west-1")
        #expect(
            try AWSRegionResolver.resolve(environment: base.merging(["AWS_REGION": "ca-central-1", "AWS_DEFAULT_REGION": "y"]) { $1 })
                == "ca-central-1"
        )
        #expect(try AWSRegionResolver.resolve(environment: base.merging(["AWS_DEFAULT_REGION": "me-south-1"]) { $1 }) == "me-south-1")
        #expect(try AWSRegionResolver.resolve(environment: base) == "eu-north-1")
        #expect(try AWSRegionResolver.resolve(profile: "other", environment: base) == "ap-east-1")
        #expect(try AWSRegionResolver.resolve(environment: base.merging(["AWS_PROFILE": "other"]) { $1 }) == "ap-east-1")
        let error = #expect(throws: CredentialProviderError.self) {
            try AWSRegionResolver.resolve(environment: ["HOME": "/nonexistent"])
        }
        #expect(error?.message.contains("AWS_REGION") == true)
        #expect(error?.message.contains("--region") == true)
    }
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "kinesis-pusher-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ contents: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
        return file
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
