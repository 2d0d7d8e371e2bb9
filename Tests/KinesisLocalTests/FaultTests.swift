import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@Suite("KinesisLocal fault injection")
struct FaultTests {
    static func configuration(_ faults: KinesisLocal.Faults) -> KinesisLocal.Configuration {
        KinesisLocal.Configuration(streams: [.init(name: "s", shardCount: 4)], shardLimits: .off, faults: faults)
    }

    /// Puts 10 × 500 records and returns each record's error code (nil = stored), in request order.
    static func outcomes(faults: KinesisLocal.Faults) async throws -> [String?] {
        try await withLocalClient(configuration(faults), retry: noRetry) { server, client in
            var codes: [String?] = []
            for request in 0..<10 {
                let batch = (0..<500).map { PutRecordsEntry(data: Array("\(request)-\($0)".utf8), partitionKey: "k\(request)-\($0)") }
                let result = try await client.putRecords(batch, stream: .name("s"))
                #expect(result.failedRecordCount == result.records.filter { !$0.succeeded }.count)
                for outcome in result.records {
                    codes.append(outcome.errorCode)
                    if let code = outcome.errorCode {
                        #expect(outcome.sequenceNumber == nil && outcome.shardID == nil)
                        if code == "InternalFailure" {
                            #expect(outcome.errorMessage == "Internal service failure.")
                        } else {
                            #expect(outcome.errorMessage?.hasPrefix("Rate exceeded for shard shardId-") == true)
                            #expect(outcome.errorMessage?.hasSuffix(" in stream s under account 123456789012.") == true)
                        }
                    }
                }
            }
            let stats = try #require(server.stats().streams["s"])
            #expect(stats.accepted == codes.filter { $0 == nil }.count)
            #expect(stats.throttled == codes.filter { $0 == "ProvisionedThroughputExceededException" }.count)
            return codes
        }
    }

    @Test("per-record InternalFailure and throttle rates as configured; the same seed fails the same records")
    func perRecordRates() async throws {
        let faults = KinesisLocal.Faults(recordInternalFailureRate: 0.1, recordThrottleRate: 0.2, seed: 42)
        let first = try await Self.outcomes(faults: faults)
        let second = try await Self.outcomes(faults: faults)
        #expect(first.count == 5000)
        let internalRate = Double(first.filter { $0 == "InternalFailure" }.count) / 5000
        let throttled = Double(first.filter { $0 == "ProvisionedThroughputExceededException" }.count) / 5000
        print("KinesisLocal per-record faults: \(internalRate) InternalFailure (0.1 set), \(throttled) throttled (0.2 × 0.9 = 0.18 expected)")
        #expect(abs(internalRate - 0.1) < 0.02)
        // The throttle draw happens for records that did not already fail internally.
        #expect(abs(throttled - 0.18) < 0.025)
        #expect(first == second, "the same seed must give the same failure positions")

        var reseeded = faults
        reseeded.seed = 43
        let other = try await Self.outcomes(faults: reseeded)
        #expect(other != first)
    }

    @Test("setFaults reseeds: replaying a seed on a running server repeats the positions")
    func setFaultsReseeds() async throws {
        try await withLocalClient(Self.configuration(.init()), retry: noRetry) { server, client in
            let batch = (0..<500).map { PutRecordsEntry(data: [1], partitionKey: "k\($0)") }
            #expect(try await client.putRecords(batch, stream: .name("s")).failedRecordCount == 0)
            let faults = KinesisLocal.Faults(recordThrottleRate: 0.5, seed: 9)
            server.setFaults(faults)
            #expect(server.faults == faults)
            let a = try await client.putRecords(batch, stream: .name("s")).records.map(\.errorCode)
            server.setFaults(faults)
            let b = try await client.putRecords(batch, stream: .name("s")).records.map(\.errorCode)
            #expect(a == b)
            #expect(a.contains { $0 != nil } && a.contains { $0 == nil })
        }
    }

    @Test("whole-request faults: HTTP 500 InternalFailure, 400 throttle, KMSThrottlingException; control calls unaffected")
    func requestFaults() async throws {
        let cases: [(KinesisLocal.Faults, KinesisError.Code, Int, KinesisError.RetryClass)] = [
            (.init(requestInternalErrorRate: 1), .internalFailure, 500, .transient),
            (.init(requestThrottleRate: 1), .provisionedThroughputExceeded, 400, .throttled),
            (.init(kmsThrottlingRate: 1), .kmsThrottling, 400, .throttled),
        ]
        try await withLocalClient(Self.configuration(.init()), retry: noRetry) { server, client in
            for (faults, code, status, retryClass) in cases {
                server.setFaults(faults)
                let batch = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s")) }
                #expect(batch?.code == code)
                #expect(batch?.httpStatus == status)
                #expect(batch?.retryClass == retryClass)
                #expect(batch?.requestID != nil)
                let single = await kinesisError { _ = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "k"), stream: .name("s")) }
                #expect(single?.code == code)
                let shardsDuringFault = try await client.listShards(stream: .name("s"))
                #expect(shardsDuringFault.count == 4)
            }
            #expect(server.stats().streams["s"]?.accepted == 0)
            server.setFaults(.init())
            let afterFaults = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
            #expect(afterFaults.failedRecordCount == 0)
        }
    }

    @Test("a fraction of requests fail as configured, reproducibly")
    func requestFaultRate() async throws {
        func run() async throws -> [String] {
            try await withLocalClient(Self.configuration(.init(requestThrottleRate: 0.3, seed: 5)), retry: noRetry) { _, client in
                var codes: [String] = []
                for _ in 0..<100 {
                    do {
                        _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
                        codes.append("ok")
                    } catch let error as KinesisError {
                        codes.append(error.code.rawValue)
                    }
                }
                return codes
            }
        }
        let first = try await run()
        let throttled = first.filter { $0 == "ProvisionedThroughputExceededException" }.count
        #expect((15...45).contains(throttled), "\(throttled) of 100")
        #expect(first.allSatisfy { $0 == "ok" || $0 == "ProvisionedThroughputExceededException" })
        #expect(try await run() == first)
    }

    @Test("dropped connections: the client sees a transport error and nothing is stored")
    func droppedConnections() async throws {
        try await withLocalClient(Self.configuration(.init(dropConnectionRate: 1)), retry: noRetry) { server, client in
            let error = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s")) }
            #expect(error?.code == .transport, "\(error.map { "\($0)" } ?? "")")
            #expect(error?.retryClass == .transient)
            #expect(error?.httpStatus == nil)
            #expect(server.stats().streams["s"]?.accepted == 0)
            // The server still answers other operations, and puts once the fault is off.
            let shardsAfterDrop = try await client.listShards(stream: .name("s"))
            #expect(shardsAfterDrop.count == 4)
            server.setFaults(.init())
            let afterDrop = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
            #expect(afterDrop.failedRecordCount == 0)
        }
    }

    @Test("added latency delays puts by at least the configured time")
    func addedLatency() async throws {
        // A second of latency: long enough that a control call on a loaded machine still answers sooner.
        try await withLocalClient(Self.configuration(.init(addedLatencyMilliseconds: 1000)), retry: noRetry) { _, client in
            let clock = ContinuousClock()
            _ = try await client.listShards(stream: .name("s"))  // warm the connection
            let batchTime = try await clock.measure {
                _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
            }
            let singleTime = try await clock.measure {
                _ = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "k"), stream: .name("s"))
            }
            let controlTime = try await clock.measure { _ = try await client.listShards(stream: .name("s")) }
            print("KinesisLocal latency fault: PutRecords \(batchTime), PutRecord \(singleTime), ListShards \(controlTime)")
            #expect(batchTime >= .milliseconds(1000))
            #expect(singleTime >= .milliseconds(1000))
            #expect(batchTime < .seconds(5))
            #expect(controlTime < .milliseconds(1000))
        }
    }

    @Test("added latency also delays injected request faults")
    func latencyOnFaults() async throws {
        try await withLocalClient(Self.configuration(.init(requestThrottleRate: 1, addedLatencyMilliseconds: 200)), retry: noRetry) { _, client in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s")) }
            let elapsed = clock.now - start
            #expect(error?.code == .provisionedThroughputExceeded)
            #expect(elapsed >= .milliseconds(200), "\(elapsed)")
        }
    }

    @Test("ExpiredTokenException after N requests per access key; a new key works")
    func expiredToken() async throws {
        let first = AWSCredentialIdentity(accessKeyID: "ASIAFIRSTKEY00000001", secretAccessKey: "first-secret", sessionToken: "t1")
        let second = AWSCredentialIdentity(accessKeyID: "ASIASECONDKEY0000002", secretAccessKey: "second-secret", sessionToken: "t2")
        try await withServer(Self.configuration(.init(expiredTokenAfterRequests: 3))) { server in
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(first), retry: noRetry) { client in
                for _ in 0..<3 {
                    _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
                }
                let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
                #expect(error?.code == .expiredToken)
                #expect(error?.httpStatus == 400)
                #expect(error?.message == "The security token included in the request is expired")
                #expect(error?.retryClass == .refreshCredentials)
            }
            // A client whose provider hands out a new key after invalidate() recovers by itself.
            let rotating = RotatingCredentialProvider([first, second])
            try await withClient(url: server.endpoint, credentials: rotating, retry: noRetry) { client in
                let result = try await client.putRecords([PutRecordsEntry(data: [2], partitionKey: "k")], stream: .name("s"))
                #expect(result.failedRecordCount == 0)
                #expect(rotating.invalidations == 1)
            }
            #expect(server.stats().streams["s"]?.accepted == 4)
            // Three refusals: the listShards call and its one retry after invalidate() (a static key stays the same),
            // then the rotating client's first call.
            #expect(server.stats().expiredTokens == 3)
        }
    }

    @Test("changing other faults keeps the per-key request counts; changing the expiry limit restarts them")
    func expiredTokenCountsSurviveOtherFaultChanges() async throws {
        let key = AWSCredentialIdentity(accessKeyID: "ASIAKEEPCOUNTS000001", secretAccessKey: "secret", sessionToken: "t")
        try await withServer(Self.configuration(.init(expiredTokenAfterRequests: 2))) { server in
            try await withClient(url: server.endpoint, credentials: StaticCredentialProvider(key), retry: noRetry) { client in
                _ = try await client.listShards(stream: .name("s"))
                server.setFaults(.init(addedLatencyMilliseconds: 1, expiredTokenAfterRequests: 2, seed: 9))  // a latency toggle
                _ = try await client.listShards(stream: .name("s"))
                let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
                #expect(error?.code == .expiredToken)
                #expect(server.stats().expiredTokens == 2)  // the call and its one retry with the same static key
                server.setFaults(.init(expiredTokenAfterRequests: 3))  // a new limit: every key starts again
                _ = try await client.listShards(stream: .name("s"))
                #expect(server.stats().expiredTokens == 2)
            }
        }
    }

    @Test("the admin endpoint over HTTP: GET/POST faults, stats, reshard")
    func adminEndpoint() async throws {
        try await withLocalClient(Self.configuration(.init()), retry: noRetry) { server, client in
            let initial = try await admin(server, .GET, "/_admin/faults")
            #expect(initial.status == 200)
            #expect(initial.headers.first(name: "Content-Type") == "application/json")
            let decoded = try JSONDecoder().decode(KinesisLocal.Faults.self, from: Data(initial.body.utf8))
            #expect(decoded == KinesisLocal.Faults())

            let set = try await admin(server, .POST, "/_admin/faults", json: #"{"recordThrottleRate":1,"seed":77}"#)
            #expect(set.status == 200, "\(set.body)")
            #expect(server.faults == KinesisLocal.Faults(recordThrottleRate: 1, seed: 77))
            let readBack = try await admin(server, .GET, "/_admin/faults")
            #expect(try JSONDecoder().decode(KinesisLocal.Faults.self, from: Data(readBack.body.utf8)) == server.faults)
            let throttled = try await client.putRecords((0..<10).map { PutRecordsEntry(data: [1], partitionKey: "k\($0)") }, stream: .name("s"))
            #expect(throttled.failedRecordCount == 10)

            #expect(try await admin(server, .POST, "/_admin/faults", json: "{}").status == 200)
            #expect(server.faults == KinesisLocal.Faults())
            let stored = try await client.putRecords((0..<10).map { PutRecordsEntry(data: [1], partitionKey: "k\($0)") }, stream: .name("s"))
            #expect(stored.failedRecordCount == 0)

            let statsAnswer = try await admin(server, .GET, "/_admin/stats")
            #expect(statsAnswer.status == 200)
            let stats = try JSONDecoder().decode(KinesisLocal.Stats.self, from: Data(statsAnswer.body.utf8))
            #expect(stats.streams["s"]?.accepted == 10)
            #expect(stats.streams["s"]?.throttled == 10)
            #expect(stats.streams["s"]?.openShards == 4)
            #expect(stats.streams["s"]?.shards.count == 4)
            #expect(stats.requests == server.stats().requests)
            #expect(stats.requests >= 2)

            let reshard = try await admin(server, .POST, "/_admin/reshard", json: #"{"stream":"s","shardCount":8}"#)
            #expect(reshard.status == 200, "\(reshard.body)")
            #expect(reshard.object?["openShards"] as? String == "8")
            let open = try await client.listShards(stream: .name("s"), filter: .atLatest)
            #expect(open.map(\.shardID) == (4..<12).map { shardID($0) })
            #expect(open.map(\.hashKeyRange) == evenSplit(8))
            let after = try await client.putRecords((0..<50).map { PutRecordsEntry(data: [1], partitionKey: "after-\($0)") }, stream: .name("s"))
            #expect(after.records.allSatisfy { $0.shardID.map { Set(open.map(\.shardID)).contains($0) } == true })

            // Default target: double the open shards.
            let doubled = try await admin(server, .POST, "/_admin/reshard", json: #"{"stream":"s"}"#)
            #expect(doubled.object?["openShards"] as? String == "16")
            #expect(server.stats().streams["s"]?.openShards == 16)

            let missing = try await admin(server, .POST, "/_admin/reshard", json: #"{"stream":"nope","shardCount":2}"#)
            #expect(missing.status == 400)
            #expect(missing.errorType == "ResourceNotFoundException")
            #expect(try await admin(server, .GET, "/_admin/nothing").status == 404)
            #expect(try await admin(server, .POST, "/_admin/faults", json: "not json").status == 400)
        }
    }
}
