import AWSCredentials
import AWSSigning
import Foundation
import KinesisLocal
import Logging
import Synchronization
import Testing
import TestSupport

@testable import KinesisPusher

/// A source that answers once, with credentials usable for `usableFor`, and after that never answers, not even to
/// cancellation (a wedged helper process, a black-holed endpoint without a timeout).
final class WedgedCredentialSource: CredentialProvider {
    let name = "wedged"
    private let usableFor: TimeInterval
    private let calls = Atomic<Int>(0)
    /// Kept so the never-resumed waits are not reported as leaked.
    private let stuck = Mutex<[CheckedContinuation<Void, Never>]>([])

    init(usableFor: TimeInterval) { self.usableFor = usableFor }

    var callCount: Int { calls.load(ordering: .relaxed) }

    func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        guard calls.add(1, ordering: .relaxed).oldValue > 0 else {
            return AWSCredentialIdentity(
                accessKeyID: TestKeys.test.accessKeyID,
                secretAccessKey: TestKeys.test.secretAccessKey,
                expiration: Date().addingTimeInterval(usableFor + 10)
            )
        }
        await withCheckedContinuation { continuation in stuck.withLock { $0.append(continuation) } }
        throw CancellationError()
    }
}

@Suite("Shutdown bounded by shutdownTimeout")
struct ShutdownBoundsTests {
    @Test("a credential source that hangs for good: shutdown still ends within its timeout; what waited for it fails with .shutdown")
    func hangingCredentialSource() async throws {
        try await withServer(local(shards: 2)) { server in
            let source = WedgedCredentialSource(usableFor: 1)
            let log = FailureLog()
            let runner = Runner(configuration: {
                var configuration = RunnerConfiguration()
                configuration.shutdownTimeout = .milliseconds(500)
                configuration.failureHandler = log.handler
                configuration.retry.jitterSeed = TestSeed.value
                return configuration
            }()).withCredentialProvider(CachingCredentialProvider(source, expiryMargin: .seconds(10), logger: Logger(label: "test")))
            try runner.configure(AWSConfig(region: "us-east-1", profile: nil, streamName: "s", endpoint: server.endpoint))
            let task = Task { try await runner.run() }
            try await runner.send(Record(text: "early", partitionKey: "k"))
            try await until { runner.stats.delivered == 1 }
            // Once the first credentials are no longer usable, every call waits for a refresh that never ends.
            try await Task.sleep(for: .milliseconds(1100))
            for i in 0..<20 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            try await until { source.callCount >= 2 && runner.stats.inFlight >= 1 }
            let start = ContinuousClock.now
            await runner.shutdown()
            #expect(seconds(since: start) < 3, "0.5 s of shutdown timeout, with room for a loaded machine")
            try await task.value
            #expect(runner.stats.delivered == 1)
            #expect(log.count == 20)
            #expect(log.codes.allSatisfy { $0 == .shutdown }, "\(log.codes)")
        }
    }

    @Test("a builder method after records were sent, before run(): refused (with a warning), the records kept")
    func builderAfterSend() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server)
            for i in 0..<5 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            runner.withAsync().withRecordTTL(.seconds(1))
            #expect(!runner.configuration.concurrency.isAsync, "the change is ignored")
            #expect(runner.stats.buffered == 5)
            try await withRunning(runner) {
                try await until { runner.stats.delivered == 5 }
            }.run.get()
            #expect(try server.storedRecords(stream: "s").count == 5)
        }
    }
}
