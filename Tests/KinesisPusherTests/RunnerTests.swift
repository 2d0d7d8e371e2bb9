import AWSCredentials
import AWSSigning
import KinesisAPI
import KinesisLocal
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import TestSupport

@testable import KinesisPusher

/// The runner against a KinesisLocal on loopback: delivery, retries, limits, failures and shutdown.
@Suite("Runner against KinesisLocal", .timeLimit(.minutes(1)))
struct RunnerTests {
    // MARK: Delivery and retries

    @Test("with record faults, every record is delivered exactly once; only failed entries are resent")
    func deliversOnceUnderFaults() async throws {
        let faults = KinesisLocal.Faults(recordInternalFailureRate: 0.1, recordThrottleRate: 0.2, seed: 7)
        try await withServer(local(shards: 4, faults: faults)) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.failureHandler = log.handler
                $0.pacing.rateLimitPercent = nil  // the server has no limits; the injected throttles are random
                $0.retry.baseDelay = .milliseconds(5)
                $0.retry.maxDelay = .milliseconds(50)
                $0.concurrency.isAsync = true
            }
            let sendCount = 3000
            let putCount = 200
            let (results, run) = try await withRunning(runner) {
                try await withThrowingTaskGroup(of: [PutResult].self) { group in
                    group.addTask {
                        for i in 0..<sendCount { try await runner.send(Record(text: "send-\(i)", partitionKey: "send-\(i)")) }
                        return []
                    }
                    for worker in 0..<4 {
                        group.addTask {
                            var results: [PutResult] = []
                            for i in stride(from: worker, to: putCount, by: 4) {
                                results.append(try await runner.put(Record(text: "put-\(i)", partitionKey: "put-\(i)")))
                            }
                            return results
                        }
                    }
                    var results: [PutResult] = []
                    for try await part in group { results += part }
                    try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == sendCount + putCount }
                    return results
                }
            }
            try run.get()
            let stats = runner.stats
            let server = try #require(server.streamStats)
            print("faults: \(stats.delivered) delivered, \(stats.recovered) recovered, \(stats.retries) retries, \(stats.throttled) throttled, \(stats.requests) requests; server accepted \(server.accepted)")
            #expect(stats.sent == sendCount + putCount)
            #expect(stats.failed == 0)
            #expect(log.count == 0)
            #expect(stats.delivered == sendCount + putCount)
            #expect(server.accepted == stats.delivered)  // no success was ever resent
            #expect(stats.recovered > 0)
            #expect(stats.throttled > 0)
            #expect(stats.retries >= stats.recovered)
            #expect(results.count == putCount)
            #expect(results.allSatisfy { $0.attempts >= 1 && $0.shardID.hasPrefix("shardId-") && !$0.sequenceNumber.isEmpty })
            #expect(results.filter { $0.attempts > 1 }.count <= stats.recovered)
            #expect(Set(results.map(\.sequenceNumber)).count == putCount)
        }
    }

    @Test("dropped connections: the records of a lost request are resent and stored once")
    func droppedConnections() async throws {
        try await withServer(local(shards: 2, faults: .init(dropConnectionRate: 0.3, seed: 5))) { server in
            let runner = try makeRunner(server) {
                $0.retry.baseDelay = .milliseconds(5)
                $0.batching.maxRecordsPerRequest = 50
                $0.concurrency.isAsync = true
            }
            let count = 500
            try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == count }
            }.run.get()
            let stats = runner.stats
            print("dropped connections: \(stats.delivered) delivered, \(stats.recovered) recovered, \(stats.requests) requests")
            #expect(stats.delivered == count)
            #expect(stats.recovered > 0)
            #expect(server.streamStats?.accepted == count)
        }
    }

    @Test("batches stay within the request byte cap (the server refuses bigger ones)")
    func requestByteCap() async throws {
        var configuration = local(shards: 2)
        configuration.maxRequestBytes = 64 << 10
        try await withServer(configuration) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.batching.maxRequestBytes = 64 << 10
                $0.failureHandler = log.handler
            }
            let count = 200
            try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(data: [UInt8](repeating: UInt8(i % 251), count: 10_000), partitionKey: "k\(i)")) }
                try await until(timeout: .seconds(10)) { runner.stats.delivered + runner.stats.failed == count }
            }.run.get()
            #expect(log.count == 0, "\(log.failures.value.first?.error.description ?? "")")
            #expect(runner.stats.delivered == count)
            #expect(runner.stats.requests >= count / 6)  // six 10 kB records per 64 KiB request at most
        }
    }

    @Test("read back: every record once, data intact")
    func readBackNoDuplicates() async throws {
        try await withServer(local(shards: 3, faults: .init(recordInternalFailureRate: 0.3, seed: 11))) { server in
            let runner = try makeRunner(server) { $0.retry.baseDelay = .milliseconds(5) }
            let count = 1500
            try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "payload-\(i)", partitionKey: "key-\(i)")) }
                try await until(timeout: .seconds(20)) { runner.stats.delivered == count }
            }.run.get()
            let records = try await readBack(server)
            #expect(records.count == count)
            #expect(Set(records.map(\.partitionKey)).count == count)
            #expect(records.allSatisfy { String(decoding: $0.data, as: UTF8.self) == "payload-" + $0.partitionKey.dropFirst(4) })
            #expect(runner.stats.recovered > 0)
        }
    }

    // MARK: Intake

    @Test("validation at the door names the limit and never affects other records")
    func validation() async throws {
        let configuration = KinesisLocal.Configuration(streams: [.init(name: "s", shardCount: 2, maxRecordSizeInKiB: 2048)], shardLimits: .off)
        try await withServer(configuration) { server in
            let runner = try makeRunner(server) { $0.batching.maxRequestBytes = 3 << 20 }
            #expect(try await runner.checkShards() == 2)
            try await withRunning(runner) {
                async let good1 = runner.put(Record(text: "ok", partitionKey: "a"))
                let cases: [(Record, String)] = [
                    (Record(text: "x", partitionKey: ""), "1 to 256"),
                    (Record(text: "x", partitionKey: String(repeating: "é", count: 257)), "257 characters"),
                    (Record(data: [UInt8](repeating: 1, count: (2 << 20) - 4), partitionKey: "abcde"), "at most 2097152"),
                    (Record(text: "x", partitionKey: "k", explicitHashKey: "340282366920938463463374607431768211456"), "2^128-1"),
                    (Record(text: "x", partitionKey: "k", explicitHashKey: "12a"), "not a decimal"),
                ]
                for (record, limit) in cases {
                    for attempt in 0..<3 {
                        let error = try await #require(throws: RunnerError.self) {
                            switch attempt {
                            case 0: _ = try await runner.put(record)
                            case 1: try await runner.send(record)
                            default: _ = try runner.trySend(record)
                            }
                        }
                        #expect(error.code == .invalidRecord)
                        #expect(error.message.contains(limit), "\(error.message)")
                    }
                }
                // At the limits exactly: fine.
                let edge = try await runner.put(Record(data: [UInt8](repeating: 1, count: (2 << 20) - 5), partitionKey: "abcde"))
                #expect(edge.attempts == 1)
                _ = try await runner.put(Record(text: "x", partitionKey: String(repeating: "é", count: 256)))
                let top = try await runner.put(Record(text: "x", partitionKey: "k", explicitHashKey: "340282366920938463463374607431768211455"))
                #expect(top.shardID == "shardId-000000000001")
                _ = try await good1
            }.run.get()
            // A record larger than the request byte cap could never be sent: refused too, naming the cap.
            let small = try makeRunner(server) { $0.batching.maxRequestBytes = 2000 }
            let error = try #require(throws: RunnerError.self) { try small.trySend(Record(data: [UInt8](repeating: 0, count: 2000), partitionKey: "big")) }
            #expect(error.code == .invalidRecord)
            #expect(error.message.contains("2000"), "\(error.message)")
            let stats = runner.stats
            #expect(stats.rejected == 15)
            #expect(stats.sent == 4)
            #expect(stats.delivered == 4)
            #expect(stats.failed == 0)
        }
    }

    @Test("backpressure: trySend never suspends and says false when full; send suspends, and cancelling it withdraws it")
    func backpressure() async throws {
        try await withServer(local(shards: 1)) { server in
            let runner = try makeRunner(server) { $0.buffer.size = 3 }
            // Not running yet: nothing drains the buffer.
            for i in 0..<3 { #expect(try runner.trySend(Record(text: "\(i)", partitionKey: "k\(i)"))) }
            #expect(try runner.trySend(Record(text: "x", partitionKey: "x")) == false)
            let returned = Locked(false)
            let blocked = Task {
                try await runner.send(Record(text: "blocked", partitionKey: "blocked"))
                returned.withLock { $0 = true }
            }
            let blockedPut = Task { try await runner.put(Record(text: "blocked-put", partitionKey: "blocked-put")) }
            try await until { runner.state.withLock { $0.waitingCount } == 2 }
            #expect(!returned.value)
            blocked.cancel()
            blockedPut.cancel()
            await #expect(throws: CancellationError.self) { try await blocked.value }
            await #expect(throws: CancellationError.self) { try await blockedPut.value }
            #expect(runner.stats.sent == 3)

            let waiting = Task { try await runner.send(Record(text: "w", partitionKey: "w")) }
            let waitingPut = Task { try await runner.put(Record(text: "wp", partitionKey: "wp")) }
            try await until { runner.state.withLock { $0.waitingCount } == 2 }
            try await withRunning(runner) {
                try await waiting.value
                let result = try await waitingPut.value
                #expect(result.attempts == 1)
                try await until { runner.stats.delivered == 5 }
            }.run.get()
            let stats = runner.stats
            #expect(stats.sent == 5)
            #expect(stats.rejected == 1)
            #expect(server.streamStats?.accepted == 5)
        }
    }

    // MARK: Failures

    @Test("TTL: a record that cannot be delivered in time fails with .expired")
    func ttl() async throws {
        try await withServer(local(shards: 1, faults: .init(requestInternalErrorRate: 1))) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.retry.recordTTL = .seconds(1)
                $0.failureHandler = log.handler
            }
            try await withRunning(runner) {
                let start = ContinuousClock.now
                try await runner.send(Record(text: "s", partitionKey: "s"))
                let error = try await #require(throws: RunnerError.self) { _ = try await runner.put(Record(text: "p", partitionKey: "p")) }
                #expect(error.code == .expired)
                #expect(error.attempts >= 1)
                #expect(error.kinesisError?.code == .internalFailure)
                #expect(seconds(since: start) < 6)  // the 1 s TTL, not the 30 s default
                try await until { log.count == 1 }
                #expect(log.codes == [.expired])
            }.run.get()
            #expect(runner.stats.failed == 2)
            #expect(runner.stats.delivered == 0)
        }
    }

    @Test("maxAttempts: a record failing every attempt ends with .attemptsExhausted after exactly that many")
    func attemptsExhausted() async throws {
        try await withServer(local(shards: 2, faults: .init(recordInternalFailureRate: 1))) { server in
            let runner = try makeRunner(server) {
                $0.retry.maxAttempts = 3
                $0.retry.baseDelay = .milliseconds(2)
            }
            try await withRunning(runner) {
                let error = try await #require(throws: RunnerError.self) { _ = try await runner.put(Record(text: "p", partitionKey: "p")) }
                #expect(error.code == .attemptsExhausted)
                #expect(error.attempts == 3)
                #expect(error.message.contains("InternalFailure"))
            }.run.get()
            #expect(runner.stats.retries == 2)
            #expect(runner.stats.requests == 3)
        }
    }

    @Test("the failure handler hears each failed send exactly once; the counters add up")
    func failureHandlerOnce() async throws {
        try await withServer(local(shards: 4, faults: .init(recordInternalFailureRate: 0.4, seed: 3))) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.retry.maxAttempts = 2
                $0.retry.baseDelay = .milliseconds(2)
                $0.failureHandler = log.handler
                $0.concurrency.isAsync = true
            }
            let count = 2000
            try await withRunning(runner) {
                for i in 0..<count { try await runner.send(Record(text: "\(i)", partitionKey: "key-\(i)")) }
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == count }
            }.run.get()
            let stats = runner.stats
            print("failure handler: \(stats.delivered) delivered (\(stats.recovered) recovered), \(stats.failed) failed, \(log.count) handled")
            #expect(stats.failed > 0)
            #expect(log.count == stats.failed)
            #expect(Set(log.keys).count == log.count)
            #expect(log.codes.allSatisfy { $0 == .attemptsExhausted })
            #expect(stats.sent == stats.delivered + stats.failed)
            #expect(stats.recovered > 0)
            #expect(server.streamStats?.accepted == stats.delivered)
        }
    }

    @Test("the delivery handler hands back each delivered record's tag once; with the failures, every record sent", arguments: [false, true])
    func deliveryTags(aggregated: Bool) async throws {
        try await withServer(local(shards: 4, faults: .init(recordInternalFailureRate: 0.3, seed: 11))) { server in
            let log = FailureLog()
            let delivered = Locked<[UInt64]>([])
            let runner = try makeRunner(server) {
                $0.retry.maxAttempts = 2
                $0.retry.baseDelay = .milliseconds(2)
                $0.failureHandler = log.handler
                $0.deliveryHandler = { tags in delivered.withLock { $0 += tags } }
                $0.concurrency.isAsync = true
                // Ten records an aggregate: 200 aggregates, so that some fail both attempts (a few large ones may not).
                if aggregated { $0.aggregation = .init(maxCount: 10) }
            }
            let count = 2000
            try await withRunning(runner) {
                let records = (1...count).map { Record(text: "\($0)", partitionKey: "key-\($0)", tag: UInt64($0)) }
                try await runner.send(contentsOf: records)
                try await until(timeout: .seconds(20)) { runner.stats.delivered + runner.stats.failed == count }
            }.run.get()
            let deliveredTags = delivered.withLock { $0 }
            let failedTags = log.failures.withLock { $0.map(\.record.tag) }
            print("delivery tags (aggregated: \(aggregated)): \(deliveredTags.count) delivered, \(failedTags.count) failed")
            #expect(failedTags.count > 0, "the faults make some records fail for good")
            #expect(deliveredTags.count == runner.stats.delivered)
            #expect(Set(deliveredTags).count == deliveredTags.count, "no tag twice")
            #expect(Set(deliveredTags).isDisjoint(with: failedTags))
            #expect(Set(deliveredTags).union(failedTags) == Set((1...count).map(UInt64.init)))
        }
    }

    @Test("expired credentials are refreshed and the records delivered; credentials that stay expired are retried until the TTL, never a dead stream")
    func expiredToken() async throws {
        try await withServer(local(shards: 2, faults: .init(expiredTokenAfterRequests: 3))) { server in
            let rotating = RotatingCredentialProvider()
            let runner = Runner(configuration: {
                var configuration = RunnerConfiguration()
                configuration.batching.maxRecordsPerRequest = 20
                return configuration
            }()).withCredentialProvider(rotating)
            try runner.configure(AWSConfig(region: "us-east-1", profile: nil, streamName: "s", endpoint: server.endpoint))
            try await withRunning(runner) {
                for i in 0..<200 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until(timeout: .seconds(10)) { runner.stats.delivered + runner.stats.failed == 200 }
            }.run.get()
            #expect(runner.stats.delivered == 200)
            #expect(rotating.invalidations >= 2)

            // Static credentials stay expired however often they are refreshed: ExpiredTokenException twice in a
            // row means "refresh and retry later" (a source handing out stale keys during an outage), so the
            // records retry until their TTL and the runner keeps running.
            let stuck = try makeRunner(server) { $0.retry.recordTTL = .seconds(2) }
            try await withRunning(stuck) {
                // The key's first requests (the start's listing among them) still succeed.
                var failure: RunnerError?
                var started = ContinuousClock.now
                for i in 0..<10 where failure == nil {
                    started = ContinuousClock.now
                    do { _ = try await stuck.put(Record(text: "\(i)", partitionKey: "k\(i)")) } catch let error as RunnerError { failure = error }
                }
                let error = try #require(failure)
                #expect(error.code == .expired, "\(error)")
                #expect(error.kinesisError?.code == .expiredToken)
                #expect(error.attempts > 1)
                #expect(seconds(since: started) >= 1.5)
                try await stuck.send(Record(text: "still accepted", partitionKey: "k"))
            }.run.get()
        }
    }

    @Test("a deleted stream ends run() quickly with .streamUnusable and fails what is buffered with it")
    func deletedStream() async throws {
        try await withServer(local(shards: 2)) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.failureHandler = log.handler
                $0.batching.flushInterval = .milliseconds(50)
            }
            let task = Task { try await runner.run() }
            _ = try await runner.put(Record(text: "first", partitionKey: "first"))
            try await withReader(server) { try await $0.deleteStream(stream: .name("s")) }
            let start = ContinuousClock.now
            for i in 0..<50 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            let error = try await #require(throws: RunnerError.self) { try await task.value }
            #expect(error.code == .streamUnusable)
            #expect(error.message.contains("ResourceNotFoundException"))
            #expect(seconds(since: start) < 5)  // not the 30 s record TTL
            #expect(log.count == 50)
            #expect(log.codes.allSatisfy { $0 == .streamUnusable })
            let after = try await #require(throws: RunnerError.self) { _ = try await runner.put(Record(text: "late", partitionKey: "late")) }
            #expect(after.code == .streamUnusable)
            await runner.shutdown()  // returns at once after run() ended
            let stats = runner.stats
            #expect(stats.sent == 51)
            #expect(stats.sent == stats.delivered + stats.failed)
        }
    }

    @Test("a wrong secret with strict authentication ends run() with .streamUnusable")
    func wrongSecret() async throws {
        var configuration = local(shards: 1)
        configuration.authentication = .strict([.init(accessKeyID: "AKIDTEST", secretAccessKey: "right")])
        try await withServer(configuration) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) { $0.failureHandler = log.handler }
            let check = try await #require(throws: RunnerError.self) { try await runner.checkShards() }
            #expect(check.code == .streamUnusable)
            let task = Task { try await runner.run() }
            let start = ContinuousClock.now
            for i in 0..<20 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            let put = try await #require(throws: RunnerError.self) { _ = try await runner.put(Record(text: "p", partitionKey: "p")) }
            #expect(put.code == .streamUnusable)
            let error = try await #require(throws: RunnerError.self) { try await task.value }
            #expect(error.code == .streamUnusable)
            #expect(error.message.contains("InvalidSignatureException"))
            #expect(seconds(since: start) < 5)  // not the 30 s record TTL
            try await until { log.count == 20 }
            #expect(log.codes.allSatisfy { $0 == .streamUnusable })
            #expect(runner.stats.sent == runner.stats.failed)
        }
    }

    // MARK: Modes

    @Test("sync keeps one PutRecords in flight; async up to maxConcurrentPuts", arguments: [false, true])
    func inFlight(async: Bool) async throws {
        try await withServer(local(shards: 4, faults: .init(addedLatencyMilliseconds: 60))) { server in
            let runner = try makeRunner(server) {
                $0.concurrency.isAsync = async
                $0.concurrency.maxConcurrentPuts = 4
                $0.batching.maxRecordsPerRequest = 10
                $0.pacing.rateLimitPercent = nil
            }
            let count = 120
            let (peak, run) = try await withRunning(runner) {
                for i in 0..<count { #expect(try runner.trySend(Record(text: "\(i)", partitionKey: "k\(i)"))) }
                var peak = 0
                while runner.stats.delivered < count {
                    peak = max(peak, runner.stats.inFlight)
                    try await Task.sleep(for: .milliseconds(3))
                }
                return peak
            }
            try run.get()
            print("\(async ? "async" : "sync") mode: peak \(peak) PutRecords in flight, \(runner.stats.requests) requests")
            #expect(peak == (async ? 4 : 1))
            #expect(runner.stats.delivered == count)
        }
    }

    // MARK: Shutdown

    @Test("shutdown flushes everything buffered without waiting for the flush interval")
    func shutdownFlushes() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server) { $0.batching.flushInterval = .seconds(30) }
            let task = Task { try await runner.run() }
            for i in 0..<700 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            let start = ContinuousClock.now
            await runner.shutdown()
            #expect(seconds(since: start) < 10)  // not the 30 s flush interval
            try await task.value
            #expect(runner.stats.delivered == 700)
            #expect(server.streamStats?.accepted == 700)
            let late = try await #require(throws: RunnerError.self) { try await runner.send(Record(text: "late", partitionKey: "late")) }
            #expect(late.code == .shutdown)
            #expect(throws: RunnerError.self) { try runner.trySend(Record(text: "late", partitionKey: "late")) }
        }
    }

    @Test("shutdown against a stalled server fails what is left with .shutdown within the deadline", arguments: [false, true])
    func shutdownDeadline(async: Bool) async throws {
        // The server stalls far longer than the bound below, which leaves a loaded machine seconds of room.
        try await withServer(local(shards: 2, faults: .init(addedLatencyMilliseconds: 20_000))) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) {
                $0.concurrency.isAsync = async
                $0.shutdownTimeout = .milliseconds(300)
                $0.failureHandler = log.handler
                $0.batching.maxRecordsPerRequest = 10
            }
            let task = Task { try await runner.run() }
            for i in 0..<50 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            let put = Task { try await runner.put(Record(text: "p", partitionKey: "p")) }
            // send returns without suspending when there is room, so wait for the put to be accepted too: shut down
            // before it, it would be refused at the door instead of failing.
            try await until { runner.stats.inFlight >= 1 && runner.stats.sent == 51 }
            let start = ContinuousClock.now
            await runner.shutdown()
            let elapsed = seconds(since: start)
            print("\(async ? "async" : "sync") shutdown against a stalled server took \(elapsed) s")
            #expect(elapsed < 5)
            try await task.value
            let error = try await #require(throws: RunnerError.self) { _ = try await put.value }
            #expect(error.code == .shutdown)
            #expect(log.count == 50)
            #expect(log.codes.allSatisfy { $0 == .shutdown })
            #expect(runner.stats.failed == 51)
            #expect(runner.stats.sent == runner.stats.delivered + runner.stats.failed)
        }
    }

    @Test("cancelling run() ends it promptly and fails what is left with .shutdown")
    func cancelRun() async throws {
        try await withServer(local(shards: 1, faults: .init(addedLatencyMilliseconds: 20_000))) { server in
            let log = FailureLog()
            let runner = try makeRunner(server) { $0.failureHandler = log.handler }
            let task = Task { try await runner.run() }
            for i in 0..<20 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
            try await until { runner.stats.inFlight >= 1 }
            let start = ContinuousClock.now
            task.cancel()
            _ = await task.result
            #expect(seconds(since: start) < 5)
            #expect(log.count == 20)
            let late = try await #require(throws: RunnerError.self) { try await runner.send(Record(text: "late", partitionKey: "late")) }
            #expect(late.code == .shutdown)
            await runner.shutdown()
        }
    }

    @Test("shutdown before run(): run() gets the shutdown timeout to start and flush; later it returns at once")
    func shutdownBeforeRun() async throws {
        try await withServer(local(shards: 1)) { server in
            // The documented pattern with a run() task that starts late: nothing is lost.
            let late = try makeRunner(server) { $0.shutdownTimeout = .seconds(5) }
            for i in 0..<10 { try late.trySend(Record(text: "\(i)", partitionKey: "k\(i)")) }
            let shutdown = Task { await late.shutdown() }
            try await until { late.state.withLock { if case .draining = $0.phase { true } else { false } } }
            let start = ContinuousClock.now
            try await late.run()
            await shutdown.value
            #expect(seconds(since: start) < 4.5)  // within the 5 s shutdown timeout
            #expect(late.stats.delivered == 10)

            // run() never comes: shutdown() fails the buffered record at the deadline and returns.
            let runner = try makeRunner(server) { $0.shutdownTimeout = .milliseconds(200) }
            try runner.trySend(Record(text: "x", partitionKey: "x"))
            let before = ContinuousClock.now
            await runner.shutdown()
            #expect(seconds(since: before) < 3)
            #expect(runner.stats.failed == 1)
            // A run() after that ends at once instead of waiting forever.
            let task = Task { try await runner.run() }
            try await until(timeout: .seconds(2)) { runner.settings.withLock { if case .finished = $0.runState { true } else { false } } }
            _ = await task.result
            #expect(runner.stats.sent == 1)

            // With nothing buffered, shutdown() returns at once.
            let idle = try makeRunner(server)
            let idleStart = ContinuousClock.now
            await idle.shutdown()
            #expect(seconds(since: idleStart) < 2)
        }
    }

    @Test("as a Service: graceful shutdown drains and run() returns")
    func serviceLifecycle() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server) { $0.batching.flushInterval = .seconds(30) }
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runner.run() }
                    for i in 0..<100 { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            #expect(runner.stats.delivered == 100)
        }
    }

    // MARK: Shards and limits

    @Test("after a reshard the map refreshes and records land only on open shards")
    func reshard() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server) {
                $0.shardRefreshInterval = .seconds(60)  // only the wrong-shard answers trigger the refresh
                $0.batching.flushInterval = .milliseconds(20)
            }
            try await withRunning(runner) {
                try await until { runner.state.withLock { $0.map?.count } == 2 }
                for i in 0..<100 { _ = try await runner.send(Record(text: "\(i)", partitionKey: "before-\(i)")) }
                try await until { runner.stats.delivered == 100 }
                try server.reshard(stream: "s", shardCount: 3)
                let open = Set(try #require(server.streamStats).shards.filter(\.open).map(\.shardId))
                #expect(open.count == 3)
                let results = try await withThrowingTaskGroup(of: PutResult.self) { group in
                    for i in 0..<300 { group.addTask { try await runner.put(Record(text: "\(i)", partitionKey: "after-\(i)")) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.allSatisfy { open.contains($0.shardID) })
                try await until { Set(runner.state.withLock { $0.map?.entries.map(\.shardID) ?? [] }) == open }
                // Predictions match again: the budgets are per new shard.
                #expect(Set(runner.state.withLock { $0.limiter.budgets.keys }) == open)
            }.run.get()
            #expect(runner.stats.delivered == 400)
            #expect(runner.stats.failed == 0)
        }
    }

    @Test("pacing alone (server limits off): the default rate stays near open shards × 1000 records/s")
    func pacing() async throws {
        try await withServer(local(shards: 2)) { server in
            let runner = try makeRunner(server) { $0.concurrency.isAsync = true }
            #expect(try await runner.checkShards() == 2)
            try await withRunning(runner) {
                let start = ContinuousClock.now
                let producer = Task {
                    var i = 0
                    while !Task.isCancelled {
                        try await runner.send(Record(text: "r\(i)", partitionKey: "key-\(i)"))
                        i += 1
                    }
                }
                try await Task.sleep(until: start + .seconds(2))
                let delivered = runner.stats.delivered
                let elapsed = seconds(since: start)
                producer.cancel()
                _ = await producer.result
                print("pacing: \(delivered) delivered in \(elapsed) s with no server limit (2 shards: 2000/s + 1000 burst)")
                // Never faster than the rate; slower only by what a loaded machine costs (PacingSimulationTests
                // checks the rate itself to 5 %, on simulated time).
                #expect(Double(delivered) <= 2000 * elapsed + 1000 + 100)
                #expect(Double(delivered) >= 0.6 * 2000 * elapsed)
            }.run.get()
        }
    }

    @Test("per-shard limits on: the default 100 % rate keeps throttles under 5 % and delivers ≥ 90 % of the limit")
    func rateLimit() async throws {
        try await withServer(local(shards: 2, limits: .init())) { server in
            let runner = try makeRunner(server) { $0.concurrency.isAsync = true }
            #expect(try await runner.checkShards() == 2)
            let duration = 3.0
            try await withRunning(runner) {
                let start = ContinuousClock.now
                let producer = Task {
                    var i = 0
                    while !Task.isCancelled {
                        try await runner.send(Record(text: "r\(i)", partitionKey: "key-\(i)"))
                        i += 1
                    }
                }
                try await Task.sleep(until: start + .seconds(duration))
                producer.cancel()
                _ = await producer.result
                let stats = runner.stats
                let serverStats = try #require(server.streamStats)
                let elapsed = seconds(since: start)
                let rate = Double(stats.delivered) / elapsed
                let throttledShare = Double(serverStats.throttled) / Double(serverStats.accepted + serverStats.throttled)
                print("rate limit: \(stats.delivered) delivered in \(elapsed) s = \(Int(rate)) records/s (limit 2000/s, 1 s of burst), throttled \(serverStats.throttled) (\(throttledShare * 100) %), \(stats.requests) requests")
                // Margins for a loaded machine; PacingSimulationTests checks both tightly on simulated time.
                #expect(throttledShare < 0.10)
                #expect(rate >= 0.6 * 2000)
            }.run.get()
        }
    }
}
