import AWSSigning
import Foundation
import Logging
import Subprocess
import SystemPackage

/// Credentials from an external command (`credential_process` in a profile).
///
/// The command line is split like a shell would split it (quotes and backslashes), but no shell runs. The command
/// must print `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`; a non-zero
/// exit is reported with the command's standard error. A command that overruns its timeout, or whose caller is
/// cancelled, is stopped (SIGTERM, then SIGKILL, to its whole process group).
public struct ProcessCredentialProvider: CredentialProvider {
    public let name: String
    private let commandLine: String
    private let timeout: Duration

    /// Runs `commandLine` on every fetch, waiting at most `timeout` for it.
    public init(commandLine: String, name: String = "credential_process", timeout: Duration = .seconds(60)) {
        self.commandLine = commandLine
        self.name = name
        self.timeout = timeout
    }

    struct Output: Decodable {
        var Version: Int
        var AccessKeyId: String
        var SecretAccessKey: String
        var SessionToken: String?
        var Expiration: String?
    }

    public func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        let arguments = try Self.splitCommandLine(commandLine, provider: name)
        guard let executable = arguments.first else {
            throw CredentialProviderError(.invalidConfiguration, provider: name, message: "credential_process is empty")
        }
        let result = try await run(executable: executable, arguments: Array(arguments.dropFirst()))
        guard result.status == 0 else {
            let stderr = String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CredentialProviderError(
                .rejected,
                provider: name,
                message: "'\(executable)' exited with status \(result.status)" + (stderr.isEmpty ? "" : ": \(stderr.prefix(500))")
            )
        }
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: Data(result.stdout))
        } catch {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "'\(executable)' did not print the credential JSON (Version, AccessKeyId, SecretAccessKey)",
                underlying: error
            )
        }
        guard output.Version == 1 else {
            throw CredentialProviderError(
                .invalidConfiguration,
                provider: name,
                message: "'\(executable)' printed Version \(output.Version); only Version 1 is supported"
            )
        }
        let expiration = try ISO8601.expiration(
            output.Expiration,
            source: "the Expiration printed by '\(executable)'",
            provider: name
        )
        return AWSCredentialIdentity(
            accessKeyID: output.AccessKeyId,
            secretAccessKey: output.SecretAccessKey,
            sessionToken: output.SessionToken,
            expiration: expiration
        )
    }

    /// Most bytes read from the command's standard output, and from its standard error.
    static let outputLimit = 64 * 1024

    /// Runs the command with its output read asynchronously (no thread blocks on its pipes). When it overruns
    /// `timeout`, or the calling task is cancelled (a shutdown), its process group gets SIGTERM and, 2 seconds
    /// later, SIGKILL, so neither it nor anything it started outlives the wait.
    private func run(executable: String, arguments: [String]) async throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let options = {
            var options = PlatformOptions()
            options.processGroupID = 0
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
            return options
        }()
        let result = try await withThrowingTaskGroup(of: ExecutionResult<Void, BytesOutput, BytesOutput>?.self) { group in
            group.addTask {
                do {
                    return try await Subprocess.run(
                        executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
                        arguments: Arguments(arguments),
                        platformOptions: options,
                        output: .bytes(limit: Self.outputLimit),
                        error: .bytes(limit: Self.outputLimit)
                    )
                } catch let error as CancellationError {
                    throw error
                } catch {
                    throw CredentialProviderError(
                        .invalidConfiguration,
                        provider: name,
                        message: "cannot run '\(executable)' (or it printed more than \(Self.outputLimit) bytes): \(error)",
                        underlying: error
                    )
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let result else {
            throw CredentialProviderError(.fetchFailed, provider: name, message: "'\(executable)' did not finish within \(timeout); it was stopped")
        }
        switch result.terminationStatus {
        case .exited(let code):
            return (code, result.standardOutput, result.standardError)
        case .signaled(let signal):
            return (128 + signal, result.standardOutput, result.standardError)
        }
    }

    /// Splits a command line into words: whitespace separates; single quotes keep everything; double quotes keep
    /// everything but `\"` and `\\`; a backslash outside quotes escapes the next character.
    static func splitCommandLine(_ line: String, provider: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var hasWord = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n":
                if hasWord {
                    words.append(current)
                    current = ""
                    hasWord = false
                }
            case "'":
                hasWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                if !closed { throw unterminated(provider) }
            case "\"":
                hasWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\", let escaped = iterator.next() {
                        if escaped != "\"" && escaped != "\\" { current.append("\\") }
                        current.append(escaped)
                    } else {
                        current.append(next)
                    }
                }
                if !closed { throw unterminated(provider) }
            case "\\":
                hasWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            default:
                hasWord = true
                current.append(character)
            }
        }
        if hasWord { words.append(current) }
        return words
    }

    private static func unterminated(_ provider: String) -> CredentialProviderError {
        CredentialProviderError(.invalidConfiguration, provider: provider, message: "credential_process has an unterminated quote")
    }
}
