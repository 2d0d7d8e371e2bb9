import AWSCredentials
import Foundation
import KinesisAPI
import Testing
import TestSupport

/// `kinesis-pusher local` as a process: what it refuses, what it prints, and that it outlives what clients do.
@Suite("kinesis-pusher local as a process")
struct LocalCLITests {
    /// The banner's endpoint, once printed.
    static func endpoint(of process: CLIProcess) async throws -> String {
        var found: String?
        try await until(timeout: .seconds(20)) {
            let text = (try? String(contentsOf: process.stdoutURL, encoding: .utf8)) ?? ""
            found = text.split(separator: "\n").first { $0.contains("listening on http://") }
                .flatMap { $0.split(separator: " ").last.map(String.init) }
            return found != nil || process.hasExited
        }
        return try #require(found, "no banner; stderr: \((try? String(contentsOf: process.stderrURL, encoding: .utf8)) ?? "")")
    }

    /// One raw HTTP/1.1 GET on loopback; the whole answer as text.
    static func get(port: Int, _ path: String, headers: [String] = []) async throws -> String {
        let connection = try await RawTCPConnection.connect(port: port)
        let head = (["GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"] + headers).joined(separator: "\r\n")
        try await connection.send(head + "\r\n\r\n")
        _ = try await connection.waitForClose(timeout: .seconds(10))
        return connection.received
    }

    /// The value of `kinesis_local_records_accepted_total` for stream `s`'s first shard in an answer to GET /metrics.
    static func accepted(_ answer: String) -> Int? {
        answer.split(separator: "\n").first {
            $0.hasPrefix("kinesis_local_records_accepted_total{") && $0.contains(#"stream="s""#) && $0.contains(#"shard="shardId-000000000000""#)
        }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) } }
    }

    static func port(_ url: String) throws -> Int {
        try #require(URLComponents(string: url)?.port)
    }

    @Test("--host beyond loopback without --strict-auth or --allow-remote: refused, saying why")
    func remoteHostRefused() async throws {
        try await withCLISandbox { sandbox in
            for host in ["0.0.0.0", "10.1.2.3", "127.example.com"] {
                let outcome = try await CLIProcess.run(["local", "--host", host, "--port", "0"], environment: sandbox.environment())
                #expect(!outcome.killedBySignal && outcome.status != 0, "\(host): \(outcome.description)")
                #expect(outcome.stderr.contains("not a loopback address"), "\(outcome.stderr)")
                #expect(outcome.stderr.contains("--strict-auth") && outcome.stderr.contains("--allow-remote"), "\(outcome.stderr)")
            }
        }
    }

    @Test("--allow-remote binds beyond loopback; the banner prints the admin token; /_admin wants it")
    func adminToken() async throws {
        try await withCLISandbox { sandbox in
            let process = try CLIProcess(
                ["local", "--host", "0.0.0.0", "--allow-remote", "--port", "0", "--admin-token", "tok-123", "--stream", "s:1"],
                environment: sandbox.environment()
            )
            let url = try await Self.endpoint(of: process)
            let port = try Self.port(url)
            let banner = try String(contentsOf: process.stdoutURL, encoding: .utf8)
            #expect(banner.contains("admin token: tok-123"), "\(banner)")
            #expect(try await Self.get(port: port, "/_admin/stats").hasPrefix("HTTP/1.1 403"))
            let answer = try await Self.get(port: port, "/_admin/stats", headers: ["Authorization: Bearer tok-123"])
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            process.send(SIGTERM)
            let outcome = try await process.wait()
            #expect(!outcome.killedBySignal && outcome.status == 0, "\(outcome.description): \(outcome.stderr)")
        }
    }

    @Test("a duration past Int64 nanoseconds (--idle-timeout 1e30s, inf) is a usage error, not a trap")
    func hugeDuration() async throws {
        try await withCLISandbox { sandbox in
            for text in ["1e30s", "inf", "1e12h"] {
                let outcome = try await CLIProcess.run(["local", "--port", "0", "--idle-timeout", text], environment: sandbox.environment())
                #expect(!outcome.killedBySignal && outcome.status == 64, "\(text): \(outcome.description) \(outcome.stderr)")
                #expect(outcome.stderr.contains("idle-timeout"), "\(outcome.stderr)")
            }
        }
    }

    @Test("a random admin token is printed when none is given")
    func randomAdminToken() async throws {
        try await withCLISandbox { sandbox in
            let process = try CLIProcess(["local", "--port", "0"], environment: sandbox.environment())
            _ = try await Self.endpoint(of: process)
            let banner = try String(contentsOf: process.stdoutURL, encoding: .utf8)
            let line = try #require(banner.split(separator: "\n").first { $0.contains("admin token: ") })
            #expect(line.split(separator: " ").last?.count == 64, "\(line)")
            process.send(SIGTERM)
            _ = try await process.wait()
        }
    }

    @Test("--metrics-port: a stream deleted and created again (its counters back to zero) does not crash the server")
    func metricsAfterRecreate() async throws {
        try await withCLISandbox { sandbox in
            // A trap ends the process at once (the backtracer would hold it for many seconds).
            var environment = sandbox.environment()
            environment["SWIFT_BACKTRACE"] = "enable=no"
            let process = try CLIProcess(["local", "--port", "0", "--metrics-port", "0", "--no-shard-limits", "--stream", "s:1"], environment: environment)
            let url = try await Self.endpoint(of: process)
            var metricsPort: Int?
            try await until(timeout: .seconds(20)) {
                let text = (try? String(contentsOf: process.stderrURL, encoding: .utf8)) ?? ""
                metricsPort = text.split(separator: "\n").first { $0.hasPrefix("metrics at http://") }
                    .flatMap { URLComponents(string: String($0.dropFirst("metrics at ".count)))?.port }
                return metricsPort != nil
            }
            let metrics = try #require(metricsPort)
            try await withKinesisClient(url: url, credentials: StaticCredentialProvider(TestKeys.test)) { client in
                let entries = (0..<50).map { PutRecordsEntry(data: Array("\($0)".utf8), partitionKey: "k\($0)") }
                _ = try await client.putRecords(entries, stream: .name("s"))
                // The publisher reads the counters once a second: let it see 50 accepted.
                try await until(timeout: .seconds(20)) {
                    Self.accepted(try await Self.get(port: metrics, "/metrics")) == 50
                }
                try await client.deleteStream(stream: .name("s"))
                try await client.createStream(name: "s", shardCount: 1)
                _ = try await client.putRecords(Array(entries.prefix(5)), stream: .name("s"))
                // 50 → 5 is counted as a fresh start: 55, and the counter never goes down.
                try await until(timeout: .seconds(20)) {
                    if process.hasExited { return true }
                    return Self.accepted(try await Self.get(port: metrics, "/metrics")) == 55
                }
            }
            #expect(!process.hasExited, "the server died: \((try? String(contentsOf: process.stderrURL, encoding: .utf8)) ?? "")")
            process.send(SIGTERM)
            let outcome = try await process.wait()
            #expect(!outcome.killedBySignal && outcome.status == 0, "\(outcome.description): \(outcome.stderr)")
        }
    }
}
