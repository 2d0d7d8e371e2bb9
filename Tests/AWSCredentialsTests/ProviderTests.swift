@testable import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import TestSupport
import Testing

let testLogger = Logger(label: "test")

@Suite("Environment provider")
struct EnvironmentProviderTests {
    @Test("both keys and a session token")
    func keysAndToken() async throws {
        let identity = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            "AWS_CREDENTIAL_EXPIRATION": "2030-01-02T03:04:05Z",
        ]).credentials(logger: testLogger)
        #expect(identity.accessKeyID == "AKIAENV")
        #expect(identity.sessionToken == "t")
        #expect(identity.expiration == Date(timeIntervalSince1970: 1_893_553_445))
    }

    @Test("the legacy AWS_SECURITY_TOKEN is read")
    func legacyToken() async throws {
        let identity = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "legacy",
        ]).credentials(logger: testLogger)
        #expect(identity.sessionToken == "legacy")
    }

    @Test("unset or empty is not configured; one key alone is an error naming the missing one")
    func partialConfiguration() async throws {
        let unset = await #expect(throws: CredentialProviderError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": ""]).credentials(logger: testLogger)
        }
        #expect(unset?.code == .notConfigured)
        let partial = await #expect(throws: CredentialProviderError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "A"]).credentials(logger: testLogger)
        }
        #expect(partial?.code == .invalidConfiguration)
        #expect(partial?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
    }
}

@Suite("Profile provider (no network)")
struct ProfileProviderTests {
    func provider(_ profile: String?, _ configuration: AWSSharedConfiguration, client: HTTPClient, env: [String: String] = [:])
        -> ProfileCredentialProvider
    {
        ProfileCredentialProvider(
            profile: profile,
            environment: Moto.isolatedEnvironment(env),
            httpClient: client,
            sharedConfiguration: configuration
        )
    }

    @Test("static keys with a session token; AWS_PROFILE selects the profile")
    func staticKeys() async throws {
        let configuration = AWSSharedConfiguration(
            configFile: nil,
            credentialsFile: "[default]\naws_access_key_id = D\naws_secret_access_key = d\n[p]\naws_access_key_id = P\naws_secret_access_key = p\naws_session_token = tok\n"
        )
        try await withHTTPClient { client in
            #expect(try await provider(nil, configuration, client: client).credentials(logger: testLogger).accessKeyID == "D")
            let selected = try await provider(nil, configuration, client: client, env: ["AWS_PROFILE": "p"]).credentials(logger: testLogger)
            #expect(selected.accessKeyID == "P")
            #expect(selected.sessionToken == "tok")
        }
    }

    @Test("a missing default profile is skipped; a missing named profile is an error")
    func missingProfiles() async throws {
        try await withHTTPClient { client in
            let skipped = await #expect(throws: CredentialProviderError.self) {
                try await provider(nil, AWSSharedConfiguration(), client: client).credentials(logger: testLogger)
            }
            #expect(skipped?.code == .notConfigured)
            let named = await #expect(throws: CredentialProviderError.self) {
                try await provider("prod", AWSSharedConfiguration(), client: client).credentials(logger: testLogger)
            }
            #expect(named?.code == .invalidConfiguration)
            #expect(named?.message.contains("\"prod\"") == true)
        }
    }

    @Test("a cycle of source profiles is reported with its path")
    func sourceProfileCycle() async throws {
        let configuration = AWSSharedConfiguration(
            configFile: """
                [profile a]
                role_arn = arn:aws:iam::123456789012:role/A
                source_profile = b
                [profile b]
                role_arn = arn:aws:iam::123456789012:role/B
                source_profile = c
                [profile c]
                role_arn = arn:aws:iam::123456789012:role/C
                source_profile = a
                """,
            credentialsFile: nil
        )
        try await withHTTPClient { client in
            let error = await #expect(throws: CredentialProviderError.self) {
                try await provider("a", configuration, client: client).credentials(logger: testLogger)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message == "source_profile cycle: \"a\" → \"b\" → \"c\" → \"a\"")
        }
    }

    @Test("role_arn without a source, SSO profiles and half-set keys are explained")
    func misconfigurations() async throws {
        let configuration = AWSSharedConfiguration(
            configFile: """
                [profile nosource]
                role_arn = arn:aws:iam::123456789012:role/X
                [profile sso]
                sso_session = corp
                [profile half]
                aws_access_key_id = A
                [profile badsource]
                role_arn = arn:aws:iam::123456789012:role/X
                credential_source = Somewhere
                """,
            credentialsFile: nil
        )
        try await withHTTPClient { client in
            for (name, fragment) in [
                ("nosource", "neither source_profile"), ("sso", "not supported"), ("half", "only one of"),
                ("badsource", "\"Somewhere\""),
            ] {
                let error = await #expect(throws: CredentialProviderError.self) {
                    try await provider(name, configuration, client: client).credentials(logger: testLogger)
                }
                #expect(error?.code == .invalidConfiguration, "\(name)")
                #expect(error?.message.contains(fragment) == true, "\(name): \(error?.message ?? "")")
            }
        }
    }

    @Test("credential_process: JSON output, expiry, non-zero exit with stderr, wrong version")
    func credentialProcess() async throws {
        let directory = try TemporaryDirectory()
        let good = try directory.write(
            "good.sh",
            "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \"'\"$1\"'\", \"SessionToken\": \"t\", \"Expiration\": \"2031-05-06T07:08:09Z\"}'\n",
            executable: true
        )
        let failing = try directory.write("bad.sh", "#!/bin/sh\necho 'token expired, run login' >&2\nexit 3\n", executable: true)
        let version2 = try directory.write(
            "v2.sh",
            "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'\n",
            executable: true
        )
        let configuration = AWSSharedConfiguration(
            configFile: """
                [profile good]
                credential_process = \(good) "secret with spaces"
                [profile bad]
                credential_process = \(failing)
                [profile v2]
                credential_process = \(version2)
                """,
            credentialsFile: nil
        )
        try await withHTTPClient { client in
            let identity = try await provider("good", configuration, client: client).credentials(logger: testLogger)
            #expect(identity.accessKeyID == "AKIAPROC")
            #expect(identity.secretAccessKey == "secret with spaces")
            #expect(identity.expiration == Date(timeIntervalSince1970: 1_935_817_689))

            let failure = await #expect(throws: CredentialProviderError.self) {
                try await provider("bad", configuration, client: client).credentials(logger: testLogger)
            }
            #expect(failure?.code == .rejected)
            #expect(failure?.message.contains("status 3") == true)
            #expect(failure?.message.contains("token expired, run login") == true)

            let wrongVersion = await #expect(throws: CredentialProviderError.self) {
                try await provider("v2", configuration, client: client).credentials(logger: testLogger)
            }
            #expect(wrongVersion?.message.contains("Version 2") == true)
        }
    }

    @Test("credential_process that hangs and ignores SIGTERM: stopped at its timeout and on cancellation, children too")
    func credentialProcessStopped() async throws {
        let directory = try TemporaryDirectory()
        let pids = directory.path + "/pids"
        // Ignores SIGTERM, starts a child that outlives it unless the whole group is killed, and never answers.
        let hanging = try directory.write(
            "hang.sh",
            "#!/bin/sh\ntrap '' TERM\nsleep 300 &\necho $$ $! > \(pids)\nwait\n",
            executable: true
        )
        let timedOut = ProcessCredentialProvider(commandLine: hanging, timeout: .seconds(1))
        var started = ContinuousClock.now
        let error = await #expect(throws: CredentialProviderError.self) { try await timedOut.credentials(logger: testLogger) }
        #expect(seconds(since: started) < 5, "1 s timeout, then SIGTERM, 2 s, SIGKILL")
        #expect(error?.message.contains("did not finish within") == true)
        #expect(error?.isTransient == true)
        try await expectGone(pidsIn: pids)

        try? FileManager.default.removeItem(atPath: pids)
        let patient = ProcessCredentialProvider(commandLine: hanging, timeout: .seconds(60))
        let fetch = Task { try await patient.credentials(logger: testLogger) }
        try await until { FileManager.default.fileExists(atPath: pids) }
        started = ContinuousClock.now
        fetch.cancel()
        await #expect(throws: CancellationError.self) { _ = try await fetch.value }
        #expect(seconds(since: started) < 4, "cancelled: SIGTERM, 2 s, SIGKILL")
        try await expectGone(pidsIn: pids)
    }

    /// The processes whose ids the hanging script wrote are gone (reaped or not running) within a few seconds.
    private func expectGone(pidsIn file: String) async throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let pids = text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(pids.count == 2)
        try await until(timeout: .seconds(5)) {
            pids.allSatisfy { pid in
                // A zombie child of init still answers kill(0); its state in /proc says Z.
                kill(pid, 0) != 0 || ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
            }
        }
    }

    @Test("credential_process command lines split like a shell", arguments: [
        ("/bin/tool --flag value", ["/bin/tool", "--flag", "value"]),
        ("tool 'single quoted arg' x", ["tool", "single quoted arg", "x"]),
        (#"tool "double \"quoted\" \\ arg""#, ["tool", #"double "quoted" \ arg"#]),
        (#"tool a\ b"#, ["tool", "a b"]),
        ("  tool   ''  ", ["tool", ""]),
    ])
    func splitting(line: String, expected: [String]) throws {
        #expect(try ProcessCredentialProvider.splitCommandLine(line, provider: "p") == expected)
    }
}

