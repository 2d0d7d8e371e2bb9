import KinesisLocal
import Testing
import TestSupport

@testable import KinesisPusher

/// `Runner.send(contentsOf:)` against a KinesisLocal on loopback: bulk acceptance, backpressure, and what a refused
/// record in the middle of a batch leaves accepted.
@Suite("Runner.send(contentsOf:)", .timeLimit(.minutes(1)))
struct BatchIntakeTests {
    /// Records `prefix-0`, `prefix-1`, … each under its own key.
    static func records(_ count: Int, prefix: String = "r") -> [Record] {
        (0..<count).map { Record(text: "\(prefix)-\($0)", partitionKey: "\(prefix)\($0 % 97)") }
    }

    @Test("batches larger than the buffer: every record delivered once, in order per key (ordered runner)")
    func deliversEverything() async throws {
        try await withServer(local(shards: 4)) { server in
            let runner = try makeRunner(server) {
                $0.buffer.size = 700
                $0.concurrency.isAsync = true
                $0.ordering = .perPartitionKey
            }
            try await runner.checkShards()
            let sent = Self.records(5000)
            try await withRunning(runner) {
                try await runner.send(contentsOf: sent[..<1800])
                try await runner.send(contentsOf: [Record]())
                try await runner.send(contentsOf: sent[1800...])
                try await until { runner.stats.delivered == 5000 }
            }.run.get()
            let stats = runner.stats
            #expect(stats.sent == 5000 && stats.delivered == 5000 && stats.failed == 0 && stats.rejected == 0)
            let stored = try server.storedRecords(stream: "s")
            #expect(stored.count == 5000)
            var byKey: [String: [String]] = [:]
            for record in stored { byKey[record.partitionKey, default: []].append(String(decoding: record.data, as: UTF8.self)) }
            var expected: [String: [String]] = [:]
            for record in sent { expected[record.partitionKey, default: []].append(String(decoding: record.data, as: UTF8.self)) }
            #expect(byKey == expected, "each key's records stored once each, in the order sent")
        }
    }

    @Test("a full buffer suspends the call after the records that fit; it returns once the rest are in")
    func backpressure() async throws {
        try await withServer(local(shards: 1)) { server in
            let runner = try makeRunner(server) { $0.buffer.size = 3 }
            // Not running yet: nothing drains the buffer.
            let batch = Task { try await runner.send(contentsOf: Self.records(5)) }
            try await until { runner.state.withLock { $0.waitingCount } == 1 }
            #expect(runner.stats.sent == 3, "the three that fit are accepted in bulk, the fourth waits")
            try await withRunning(runner) {
                try await batch.value
                try await until { runner.stats.delivered == 5 }
            }.run.get()
            #expect(try server.storedRecords(stream: "s").map { String(decoding: $0.data, as: UTF8.self) } == (0..<5).map { "r-\($0)" })
        }
    }

    @Test("an invalid record in the middle: the records before it are accepted, it and those after it are not")
    func invalidInTheMiddle() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server)
            try await runner.checkShards()
            var batch = Self.records(6)
            batch[3].partitionKey = ""
            try await withRunning(runner) {
                let failure = try await #require(throws: RunnerBatchError.self) { try await runner.send(contentsOf: batch) }
                #expect(failure.acceptedCount == 3)
                let error = try #require(failure.error as? RunnerError)
                #expect(error.code == .invalidRecord && error.message.contains("1 to 256"), "\(error)")
                #expect(runner.stats.sent == 3 && runner.stats.rejected == 1)
                // The caller goes on after the refused record.
                try await runner.send(contentsOf: batch[4...])
                // A refused first record: nothing accepted.
                let first = try await #require(throws: RunnerBatchError.self) {
                    try await runner.send(contentsOf: [Record(text: "x", partitionKey: "k", explicitHashKey: "12a")] + Self.records(2, prefix: "late"))
                }
                #expect(first.acceptedCount == 0)
                #expect((first.error as? RunnerError)?.message.contains("not a decimal") == true)
                try await until { runner.stats.delivered == 5 }
            }.run.get()
            let stats = runner.stats
            #expect(stats.sent == 5 && stats.delivered == 5 && stats.rejected == 2)
            let stored = try server.storedRecords(stream: "s").map { String(decoding: $0.data, as: UTF8.self) }
            #expect(stored.sorted() == ["r-0", "r-1", "r-2", "r-4", "r-5"])
        }
    }

    @Test("after shutdown began: nothing accepted, the first record refused with .shutdown")
    func afterShutdown() async throws {
        try await withServer(local(shards: 1)) { server in
            let runner = try makeRunner(server)
            try await withRunning(runner) {
                try await runner.send(contentsOf: Self.records(2))
            }.run.get()
            let failure = try await #require(throws: RunnerBatchError.self) { try await runner.send(contentsOf: Self.records(3)) }
            #expect(failure.acceptedCount == 0)
            #expect((failure.error as? RunnerError)?.code == .shutdown)
            #expect(runner.stats.sent == 2 && runner.stats.delivered == 2)
        }
    }

    @Test("cancelled while waiting for room: the records that fit stay accepted, the waiting one is withdrawn")
    func cancelledWhileWaiting() async throws {
        try await withServer(local(shards: 1)) { server in
            let runner = try makeRunner(server) { $0.buffer.size = 2 }
            let batch = Task { try await runner.send(contentsOf: Self.records(4)) }
            try await until { runner.state.withLock { $0.waitingCount } == 1 }
            batch.cancel()
            let failure = try await #require(throws: RunnerBatchError.self) { try await batch.value }
            #expect(failure.acceptedCount == 2)
            #expect(failure.error is CancellationError)
            #expect(runner.state.withLock { $0.waitingCount } == 0)
            try await withRunning(runner) {
                try await until { runner.stats.delivered == 2 }
            }.run.get()
            #expect(runner.stats.sent == 2)
            #expect(try server.storedRecords(stream: "s").map { String(decoding: $0.data, as: UTF8.self) } == ["r-0", "r-1"])
        }
    }
}
