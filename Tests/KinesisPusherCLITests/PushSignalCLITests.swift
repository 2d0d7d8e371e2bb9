import Foundation
import KinesisLocal
import Testing
import TestSupport

/// SIGINT and SIGTERM sent with kill(2) to a running `kinesis-pusher push` whose standard input is a pipe the
/// test keeps writing to.
@Suite("kinesis-pusher push: SIGINT and SIGTERM as a process")
struct PushSignalCLITests {
    @Test(
        "a signal while input flows: the push flushes what it read, reports it, exits 1; stored = delivered = read",
        arguments: [SIGINT, SIGTERM]
    )
    func signalWhileInputFlows(signal: Int32) async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let child = try CLIProcess(push(server, ["--report", "json"]), environment: sandbox.environment(), input: .pipe)
                let feeder = try await LineFeeder.feed(child, server: server) { child.send(signal) }
                let written = feeder.written
                let outcome = try await child.wait()
                let accepted = try #require(feeder.acceptedAtAction, "no records reached the server within 20 s: \(outcome.stderr)")

                // Today: a signal ends the push with exit status 1 (not "killed by signal"), after the flush.
                #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
                let (fields, summary) = try PushReportJSON.parse(outcome.stdout)
                #expect(fields == PushReportJSON.fields)
                #expect(
                    outcome.stderrLines.contains("interrupted: stopped reading after \(summary.sent) records; every record read is counted below"),
                    "\(outcome.stderr)"
                )
                #expect(summary.sent >= accepted && summary.sent <= written, "read \(summary.sent); \(accepted) stored at the signal, \(written) written")
                // The input never ended: the push stopped at the signal. (It may have read every line written by
                // then; a fast push exits before the next batch.)
                #expect(!feeder.reachedLimit, "the push still read and ran 20 s after the signal: \(outcome.stderr)")
                #expect(summary.delivered + summary.failed == summary.sent)
                #expect(summary.failed == 0 && summary.input_errors == 0, "what was read is flushed: \(summary)")
                let stored = try storedLines(server)
                #expect(stored.count == summary.delivered)
                #expect(stored.sorted() == (1...summary.sent).map { "record-\($0)" }.sorted(), "exactly the lines read (the first ones written), once each")
            }
        }
    }

    @Test("SIGTERM with standard input open but idle: the push stops reading at once, flushes, reports, exits 1")
    func sigtermWhileInputIdle() async throws {
        try await withIdlePush { server, child, lines in
            let signalled = ContinuousClock.now
            child.send(SIGTERM)
            let outcome = try await child.wait(timeout: .seconds(15))
            #expect(seconds(since: signalled) < 10, "the default --shutdown-timeout is 25 s; nothing was left to flush")
            #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
            let (_, summary) = try PushReportJSON.parse(outcome.stdout)
            #expect(summary.sent == 20 && summary.delivered == 20 && summary.failed == 0)
            #expect(outcome.stderrLines.contains("interrupted: stopped reading after 20 records; every record read is counted below"))
            #expect(try storedLines(server).sorted() == lines.sorted())
        }
    }

    @Test("a second SIGINT while the flush is stuck exits at once with what is known; every line read is counted")
    func secondInterruptExitsAtOnce() async throws {
        try await withIdlePush { server, child, _ in
            // From now on every call is throttled: the flush after the first SIGINT would take the whole
            // --shutdown-timeout (25 s).
            server.setFaults(.init(recordThrottleRate: 1))
            #expect(try await child.writeInput(Array((21...30).map { "record-\($0)\n" }.joined().utf8)))
            try await until(timeout: .seconds(20)) {
                (server.stats().streams["s"]?.throttled ?? 0) > 0 || child.hasExited
            }
            child.send(SIGINT)
            try await Task.sleep(for: .milliseconds(500))
            #expect(!child.hasExited, "still flushing after the first SIGINT")
            let second = ContinuousClock.now
            child.send(SIGINT)
            let outcome = try await child.wait(timeout: .seconds(10))
            #expect(seconds(since: second) < 3, "a second SIGINT exits at once")
            #expect(!outcome.killedBySignal && outcome.status == 130, "\(outcome.description): \(outcome.stderr)")
            let (_, summary) = try PushReportJSON.parse(outcome.stdout)
            #expect(summary.sent == 30 && summary.delivered == 20 && summary.failed == 10, "\(summary)")
            #expect(outcome.stderr.contains("interrupted again: exiting without waiting for the flush; 10 of 30 records read"))
        }
    }

    @Test("a fatal runner error while standard input is open and idle ends the push with its report")
    func fatalErrorWhileInputIdle() async throws {
        try await withIdlePush { server, child, _ in
            server.deleteStream("s")
            // One more line: its call finds the stream gone and stops the runner; the input stays open.
            #expect(try await child.writeInput(Array("record-21\n".utf8)))
            let outcome = try await child.wait(timeout: .seconds(15))
            #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
            #expect(outcome.stderr.contains("stream 's' not found"), "\(outcome.stderr)")
            let (_, summary) = try PushReportJSON.parse(outcome.stdout)
            #expect(summary.sent == 21 && summary.delivered == 20 && summary.failed == 1, "\(summary)")
        }
    }

    /// A `push --report json` reading a pipe the test keeps open, once `record-1` … `record-20` reached the server.
    private func withIdlePush(_ body: (KinesisLocal, CLIProcess, [String]) async throws -> Void) async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let child = try CLIProcess(push(server, ["--report", "json"]), environment: sandbox.environment(), input: .pipe)
                try await body(server, child, try await writeAndWaitStored(child, server, count: 20))
            }
        }
    }

    /// Writes `record-1` … `record-count` to the push's input and waits (bounded) until the server holds them all;
    /// the input stays open.
    private func writeAndWaitStored(_ child: CLIProcess, _ server: KinesisLocal, count: Int) async throws -> [String] {
        let lines = (1...count).map { "record-\($0)" }
        #expect(try await child.writeInput(Array(lines.map { $0 + "\n" }.joined().utf8)))
        try await until(timeout: .seconds(20)) {
            (server.stats().streams["s"]?.accepted ?? 0) >= count || child.hasExited
        }
        return lines
    }
}
