import Foundation
import KinesisLocal
import Testing
import TestSupport

/// `push --checkpoint` and `push --follow` as processes: resuming, rotation, SIGTERM and kill -9.
@Suite("kinesis-pusher push: --follow and --checkpoint as a process")
struct PushFollowCLITests {
    @Test("--checkpoint: a re-run sends only the lines appended since, and says where it resumed")
    func checkpointedReRun() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let file = try sandbox.file("app.log", lines: (1...10).map { "line-\($0)" })
                let checkpoint = sandbox.missingFile("state.json").path
                let first = try await CLIProcess.run(push(server, ["--checkpoint", checkpoint, "--report", "json", file.path]), environment: sandbox.environment())
                #expect(first.status == 0, "\(first.stderr)")
                #expect(try PushReportJSON.parse(first.stdout).1.delivered == 10)

                let appended = FileHandle(forWritingAtPath: file.path)!
                appended.seekToEndOfFile()
                appended.write(Data((11...15).map { "line-\($0)\n" }.joined().utf8))
                try appended.close()
                let second = try await CLIProcess.run(push(server, ["--checkpoint", checkpoint, "--report", "json", file.path]), environment: sandbox.environment())
                #expect(second.status == 0, "\(second.stderr)")
                let (_, summary) = try PushReportJSON.parse(second.stdout)
                #expect(summary.sent == 5 && summary.delivered == 5, "\(summary)")
                let offset = (1...10).map { "line-\($0)\n".utf8.count }.reduce(0, +)
                #expect(second.stderrLines.contains("resumed \(file.path) at offset \(offset)"), "\(second.stderr)")
                #expect(try storedLines(server).sorted() == (1...15).map { "line-\($0)" }.sorted(), "each line once")

                let third = try await CLIProcess.run(push(server, ["--checkpoint", checkpoint, "--report", "json", file.path]), environment: sandbox.environment())
                #expect(try PushReportJSON.parse(third.stdout).1.sent == 0, "nothing new: \(third.stderr)")
            }
        }
    }

    @Test("--follow --checkpoint: appended lines, a rename rotation, kill -9 and a restart: every line stored, SIGTERM exits 0")
    func followThroughRotationAndKill() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let path = sandbox.missingFile("app.log").path
                let checkpoint = sandbox.missingFile("state.json").path
                var written: [String] = []
                func append(_ range: ClosedRange<Int>, to file: String = path) {
                    written += appendLines(range.map { "line-\($0)" }, to: file)
                }
                func waitStored(_ count: Int, _ child: CLIProcess) async throws {
                    try await until(timeout: .seconds(20)) { (server.stats().streams["s"]?.accepted ?? 0) >= count || child.hasExited }
                }
                let arguments = push(server, ["--follow", "--checkpoint", checkpoint, "--report", "json", path])
                append(1...50)
                let first = try CLIProcess(arguments, environment: sandbox.environment())
                try await waitStored(50, first)
                rename(path, path + ".1")
                append(51...60, to: path + ".1")  // the writer had not moved on yet
                append(61...90)
                try await waitStored(90, first)
                try await Task.sleep(for: .milliseconds(1500))  // a checkpoint is written every second
                first.send(SIGKILL)
                _ = try await first.wait()

                append(91...100)
                let second = try CLIProcess(arguments, environment: sandbox.environment())
                try await until(timeout: .seconds(20)) { Set(try storedLines(server)).count >= 100 || second.hasExited }
                second.send(SIGTERM)
                let outcome = try await second.wait(timeout: .seconds(30))
                #expect(outcome.status == 0, "following ends by a signal: \(outcome.description) \(outcome.stderr) \(outcome.stdout)")
                #expect(outcome.stderrLines.contains { $0.hasPrefix("resumed \(path) at offset ") }, "\(outcome.stderr)")
                let stored = try storedLines(server)
                #expect(Set(stored) == Set(written), "every line stored")
                print("follow through rotation and kill -9: \(written.count) lines, \(stored.count) stored, \(stored.count - Set(stored).count) duplicates")
                #expect(stored.count - Set(stored).count <= 10, "the restart repeats at most what was beyond the last checkpoint")
            }
        }
    }

    @Test("--follow --checkpoint of several files: each its own reader and checkpoint; kill -9 and a restart resume each")
    func severalFiles() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let paths = ["a.log", "b.log", "c.log"].map { sandbox.missingFile($0).path }
                let checkpoint = sandbox.missingFile("state.json").path
                var written: [String] = []
                func append(_ range: ClosedRange<Int>, to index: Int) {
                    written += appendLines(range.map { "\(index)-\($0)" }, to: paths[index])
                }
                let arguments = push(server, ["--follow", "--checkpoint", checkpoint, "--report", "json"] + paths)
                append(1...30, to: 0)
                append(1...20, to: 1)  // c.log does not exist yet
                let first = try CLIProcess(arguments, environment: sandbox.environment())
                try await until(timeout: .seconds(20)) { (server.stats().streams["s"]?.accepted ?? 0) >= 50 || first.hasExited }
                append(1...10, to: 2)
                append(21...25, to: 1)
                try await until(timeout: .seconds(20)) { (server.stats().streams["s"]?.accepted ?? 0) >= 65 || first.hasExited }
                try await Task.sleep(for: .milliseconds(1500))  // a checkpoint is written every second
                first.send(SIGKILL)
                _ = try await first.wait()

                append(31...40, to: 0)
                append(11...15, to: 2)
                let second = try CLIProcess(arguments, environment: sandbox.environment())
                try await until(timeout: .seconds(20)) { Set(try storedLines(server)).count >= written.count || second.hasExited }
                second.send(SIGTERM)
                let outcome = try await second.wait(timeout: .seconds(30))
                #expect(outcome.status == 0, "\(outcome.description) \(outcome.stderr)")
                for (path, lines) in zip(paths, [30, 25, 10]) {
                    let offset = (1...lines).map { "x-\($0)\n".utf8.count }.reduce(0, +)
                    #expect(outcome.stderrLines.contains("resumed \(path) at offset \(offset)"), "\(path): \(outcome.stderr)")
                }
                let stored = try storedLines(server)
                #expect(Set(stored) == Set(written), "every line of every file stored")
                #expect(stored.count == written.count, "nothing sent twice: each file resumed at its own checkpoint")
            }
        }
    }

    @Test("--follow --format ndjson: a malformed line named by file and line, the rest sent; SIGHUP reopens; per-file metrics")
    func ndjsonReopenAndMetrics() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let file = try sandbox.file("events.ndjson", lines: [#"{"k":"a","n":1}"#, "not json", #"{"k":"b","n":3}"#])
                let checkpoint = sandbox.missingFile("state.json").path
                let textfile = sandbox.missingFile("metrics.prom").path
                let options = ["--format", "ndjson", "--partition-key-field", "k", "--checkpoint", checkpoint, "--report", "json"]
                let child = try CLIProcess(
                    push(server, options + ["--follow", "--metrics-textfile", textfile, file.path]),
                    environment: sandbox.environment()
                )
                let stored = { (server.stats().streams["s"]?.accepted ?? 0) }
                try await until(timeout: .seconds(20)) { stored() >= 2 || child.hasExited }
                let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
                child.send(SIGHUP)
                try await Task.sleep(for: .milliseconds(300))
                let appended = FileHandle(forWritingAtPath: file.path)!
                appended.seekToEndOfFile()
                appended.write(Data(#"{"k":"c","n":4}"#.utf8 + [0x0A]))
                try appended.close()
                try await until(timeout: .seconds(20)) { stored() >= 3 || child.hasExited }
                #expect(!child.hasExited, "SIGHUP does not end a follow")
                try await Task.sleep(for: .milliseconds(1200))  // the metrics are sampled with the checkpoint, every second
                child.send(SIGTERM)
                let outcome = try await child.wait(timeout: .seconds(30))
                #expect(!outcome.killedBySignal && outcome.status == 1, "a malformed line makes the exit non-zero: \(outcome.description) \(outcome.stderr)")
                #expect(outcome.stderrLines.contains("\(file.path) line 2: not a JSON object"), "\(outcome.stderr)")
                #expect(outcome.stderrLines.contains("reopened \(file.path) at offset \(size)"), "\(outcome.stderr)")
                let keys = try server.storedRecords(stream: "s").map(\.partitionKey)
                #expect(keys.sorted() == ["a", "b", "c"], "each good line once: \(keys)")

                let metrics = try String(contentsOfFile: textfile, encoding: .utf8).split(separator: "\n")
                func value(_ name: String) -> Double? {
                    metrics.first { $0.hasPrefix("\(name){file=\"\(file.path)\"}") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
                }
                #expect(value("kinesis_pusher_file_delivered_records_total") == 3, "\(metrics)")
                #expect(value("kinesis_pusher_file_bytes_behind") == 0, "\(metrics)")

                let rerun = try await CLIProcess.run(push(server, options + [file.path]), environment: sandbox.environment())
                #expect(try PushReportJSON.parse(rerun.stdout).1.sent == 0, "the checkpoint is past the malformed line: \(rerun.stderr)")
            }
        }
    }

    @Test("--follow and --checkpoint refuse standard input")
    func refusesStandardInput() async throws {
        try await withCLISandbox { sandbox in
            let outcome = try await CLIProcess.run(["push", "--stream", "s", "--follow"], environment: sandbox.environment())
            #expect(outcome.status != 0)
            #expect(outcome.stderr.contains("--follow and --checkpoint read files"), "\(outcome.stderr)")
        }
    }
}

/// Appends `lines` (each with a `\n`) to the file at `path` in one write, creating it if needed; returns them.
func appendLines(_ lines: [String], to path: String) -> [String] {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    precondition(descriptor >= 0, "cannot open \(path)")
    let text = lines.map { $0 + "\n" }.joined()
    _ = text.withCString { write(descriptor, $0, strlen($0)) }
    close(descriptor)
    return lines
}
