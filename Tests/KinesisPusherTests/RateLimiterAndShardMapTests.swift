import Foundation
import KinesisAPI
import Testing

@testable import KinesisPusher

/// Shards as ListShards returns them (the model has no public memberwise initializer).
func shards(_ ranges: [(id: String, start: UInt128, end: UInt128, open: Bool)]) throws -> [Shard] {
    let json = ranges.map { shard in
        """
        {"ShardId":"\(shard.id)","HashKeyRange":{"StartingHashKey":"\(shard.start)","EndingHashKey":"\(shard.end)"},\
        "SequenceNumberRange":{"StartingSequenceNumber":"1"\(shard.open ? "" : ",\"EndingSequenceNumber\":\"9\"")}}
        """
    }
    return try JSONDecoder().decode([Shard].self, from: Data("[\(json.joined(separator: ","))]".utf8))
}

@Suite("ShardMap")
struct ShardMapTests {
    @Test("inclusive ranges, lower bound on the ending key, gaps give nil, closed shards are left out")
    func lookups() throws {
        let map = ShardMap(openShards: try shards([
            ("c", 250, 300, true),
            ("a", 0, 99, true),
            ("old", 0, 300, false),
            ("b", 100, 199, true),
        ]))
        #expect(map.count == 3)
        #expect(map.entries.map(\.shardID) == ["a", "b", "c"])
        #expect(map.shard(for: 0) == "a")
        #expect(map.shard(for: 99) == "a")
        #expect(map.shard(for: 100) == "b")
        #expect(map.shard(for: 199) == "b")
        #expect(map.shard(for: 200) == nil)  // gap
        #expect(map.shard(for: 249) == nil)
        #expect(map.shard(for: 250) == "c")
        #expect(map.shard(for: 300) == "c")
        #expect(map.shard(for: 301) == nil)  // past the end
        #expect(map.shard(for: .max) == nil)
        #expect(map.owns("b", 150))
        #expect(!map.owns("b", 200))
        #expect(!map.owns("old", 5))
        #expect(ShardMap(openShards: []).shard(for: 5) == nil)
    }

    @Test("a full two-shard split routes MD5 hashes like Kinesis")
    func fullRange() throws {
        let half = UInt128.max / 2
        let map = ShardMap(openShards: try shards([("s0", 0, half, true), ("s1", half + 1, .max, true)]))
        #expect(map.shard(for: .max) == "s1")
        #expect(map.shard(for: half) == "s0")
        #expect(map.shard(for: half + 1) == "s1")
        let hash = HashKey(partitionKey: "pk-1").value
        #expect(map.shard(for: hash) == (hash <= half ? "s0" : "s1"))
    }
}

@Suite("RateLimiter")
struct RateLimiterTests {
    static let t0 = ContinuousClock.now

    static func twoShards() throws -> ShardMap {
        let half = UInt128.max / 2
        return ShardMap(openShards: try shards([("s0", 0, half, true), ("s1", half + 1, .max, true)]))
    }

    static func take1(_ limiter: inout RateLimiter, shard: String?, size: Int, now: ContinuousClock.Instant) -> Bool {
        limiter.take(shard: shard, bytes: size, now: now)
    }

    static func takeAll(_ limiter: inout RateLimiter, shard: String?, size: Int = 10, now: ContinuousClock.Instant, upTo: Int = 100_000) -> Int {
        var taken = 0
        while taken < upTo, limiter.take(shard: shard, bytes: size, now: now) { taken += 1 }
        return taken
    }

    @Test("off when the percent is nil: everything passes")
    func disabled() {
        var limiter = RateLimiter(percent: nil)
        #expect(!limiter.isEnabled)
        #expect(Self.takeAll(&limiter, shard: "s0", size: 1 << 20, now: Self.t0, upTo: 50_000) == 50_000)
    }

    @Test("per-shard budgets: 1000 records/s each at 100 % with half a second of burst, independent of each other")
    func perShard() throws {
        var limiter = RateLimiter(percent: 100)
        limiter.use(try Self.twoShards(), now: Self.t0)
        #expect(Self.takeAll(&limiter, shard: "s0", now: Self.t0) == 500)
        #expect(Self.takeAll(&limiter, shard: "s1", now: Self.t0) == 500)
        let later = Self.t0 + .milliseconds(300)
        #expect(abs(Self.takeAll(&limiter, shard: "s0", now: later) - 300) <= 1)
        #expect(Self.takeAll(&limiter, shard: "s1", now: Self.t0 + .seconds(5)) == 500)  // the burst is capped
        // Over 2 s of steady taking: 1000 records/s.
        var taken = 0
        for ms in stride(from: 310, through: 2310, by: 10) { taken += Self.takeAll(&limiter, shard: "s0", now: Self.t0 + .milliseconds(ms)) }
        #expect(abs(taken - 2010) <= 2)
        // A shard the map does not know (a gap during a reshard) is let through.
        #expect(Self.takeAll(&limiter, shard: "unknown", now: Self.t0, upTo: 5000) == 5000)
        #expect(Self.takeAll(&limiter, shard: nil, now: Self.t0, upTo: 5000) == 5000)

        var slower = RateLimiter(percent: 50)
        slower.use(try Self.twoShards(), now: Self.t0)
        #expect(Self.takeAll(&slower, shard: "s1", now: Self.t0) == 250)
        var tiny = RateLimiter(percent: 1)  // 10 records/s; even at the adaptive floor one record fits the bucket
        tiny.use(try Self.twoShards(), now: Self.t0)
        var now = Self.t0
        for _ in 1...40 where tiny.factor(shard: "s0") > RateController.minimumFactor {
            now += .milliseconds(250)
            _ = Self.takeAll(&tiny, shard: "s0", now: now)  // a budget in use, all of it refused
            tiny.observe(shard: "s0", attempted: 20, throttled: 20, now: now)
        }
        #expect(tiny.factor(shard: "s0") == RateController.minimumFactor)
        #expect(Self.take1(&tiny, shard: "s0", size: 1, now: now + .seconds(3)))
    }

    @Test("bytes: 1 MiB/s per shard; a record larger than the whole bucket passes on a full bucket")
    func bytes() throws {
        var limiter = RateLimiter(percent: 100)
        limiter.use(try Self.twoShards(), now: Self.t0)
        #expect(Self.take1(&limiter, shard: "s0", size: 300_000, now: Self.t0))
        #expect(!Self.take1(&limiter, shard: "s0", size: 300_000, now: Self.t0))
        #expect(Self.take1(&limiter, shard: "s0", size: 224_000, now: Self.t0))
        #expect(Self.take1(&limiter, shard: "s1", size: 1_048_576, now: Self.t0))  // a whole 1 MiB record
        #expect(!Self.take1(&limiter, shard: "s1", size: 1, now: Self.t0 + .milliseconds(400)))  // paid back over a second
        #expect(Self.take1(&limiter, shard: "s1", size: 1, now: Self.t0 + .milliseconds(600)))
        var small = RateLimiter(percent: 10)  // 104,857 bytes/s
        small.use(try Self.twoShards(), now: Self.t0)
        #expect(Self.take1(&small, shard: "s1", size: 1_000_000, now: Self.t0))
        #expect(!Self.take1(&small, shard: "s1", size: 1_000_000, now: Self.t0))
    }

    @Test("without a map: one stream-wide budget of open shards × limits")
    func streamWide() throws {
        var limiter = RateLimiter(percent: 100)
        limiter.useStreamWide(openShards: 3, now: Self.t0)
        #expect(Self.takeAll(&limiter, shard: "s0", now: Self.t0) == 1500)
        #expect(!Self.take1(&limiter, shard: "s1", size: 1, now: Self.t0))  // the same budget
        limiter.useStreamWide(openShards: 5, now: Self.t0 + .seconds(1))
        #expect(Self.takeAll(&limiter, shard: nil, now: Self.t0 + .seconds(1)) == 2500)
        // A map replaces it with per-shard budgets.
        limiter.use(try Self.twoShards(), now: Self.t0 + .seconds(1))
        #expect(Self.takeAll(&limiter, shard: "s0", now: Self.t0 + .seconds(1)) == 500)
    }

    @Test("adaptive: capacity throttles reported for a shard cut its rate and shrink its bucket; the rate grows back")
    func adaptive() throws {
        var limiter = RateLimiter(percent: 100)
        limiter.use(try Self.twoShards(), now: Self.t0)
        let answered = Self.t0 + .milliseconds(250)
        limiter.observe(shard: "s0", attempted: 100, throttled: 50, now: answered)
        #expect(limiter.factor(shard: "s0") == 0.5)  // cut by the excess share, at most in half
        #expect(limiter.factor(shard: "s1") == 1)
        #expect(Self.takeAll(&limiter, shard: "s0", now: answered) == 250)  // the bucket shrank with the rate
        limiter.observe(shard: "s1", attempted: 100, throttled: 0, now: answered)
        #expect(limiter.factor(shard: "s1") == 1)
        // The next window, clear, ends the episode; from then on the rate grows a tenth of the full rate per second.
        let cleared = answered + .milliseconds(250)
        limiter.observe(shard: "s0", attempted: 100, throttled: 0, now: cleared)
        #expect(limiter.factor(shard: "s0") == 0.5)
        _ = Self.takeAll(&limiter, shard: "s0", now: cleared)  // in use
        _ = limiter.take(shard: "s0", bytes: 1, now: cleared + .seconds(1))
        #expect(abs(limiter.factor(shard: "s0") - 0.6) < 1e-9)
        // Disabled limiters ignore throttles.
        var off = RateLimiter(percent: nil)
        off.observe(shard: "s0", attempted: 100, throttled: 100, now: answered)
        #expect(Self.take1(&off, shard: "s0", size: 1, now: answered))
    }

    @Test("a cut rate grows back only while its budget is used: a shard that gets few records keeps its cut")
    func noGrowthWhileUnused() throws {
        var limiter = RateLimiter(percent: 100)
        limiter.use(try Self.twoShards(), now: Self.t0)
        var now = Self.t0 + .milliseconds(250)
        limiter.observe(shard: "s0", attempted: 100, throttled: 50, now: now)
        now += .milliseconds(250)
        limiter.observe(shard: "s0", attempted: 100, throttled: 0, now: now)  // the episode ends
        #expect(limiter.factor(shard: "s0") == 0.5)
        // One record per 100 ms against 500/s: the bucket stays full, the rate proves nothing and must not grow.
        for _ in 0..<20 {
            now += .milliseconds(100)
            #expect(Self.take1(&limiter, shard: "s0", size: 1, now: now))
        }
        #expect(limiter.factor(shard: "s0") == 0.5)
        // Taking all the bucket holds every 10 ms: used, so it grows a tenth of the full rate per second.
        for _ in 0..<100 {
            now += .milliseconds(10)
            _ = Self.takeAll(&limiter, shard: "s0", now: now)
        }
        #expect(abs(limiter.factor(shard: "s0") - 0.6) < 0.01)
    }

    @Test(
        "only capacity throttles are a rate signal: InternalFailure, HTTP 500, dropped connections and KMS throttling leave the rate alone",
        arguments: [
            ("InternalFailure per record", false),
            ("HTTP 500", false),
            ("dropped connection", false),
            ("KMSThrottlingException", false),
            ("ProvisionedThroughputExceeded per record", true),
            ("ProvisionedThroughputExceeded for the request", true),
        ]
    )
    func onlyCapacityThrottles(answer name: String, cuts: Bool) throws {
        let map = try Fixture.evenMap(1)
        var machine = RunnerStateMachine(limits: .init(RunnerConfiguration(buffer: .init(size: 1000))), rateLimitPercent: nil)
        _ = machine.install(map, now: Self.t0)
        for i in 0..<100 { _ = machine.offerTest(Record(text: "r\(i)", partitionKey: "k\(i)"), now: Self.t0) }
        let batch = try #require(machine.nextBatch(now: Self.t0 + .milliseconds(100)).0)
        func failure(_ code: KinesisError.Code, _ status: Int?) -> Result<PutRecordsResult, KinesisError> {
            .failure(KinesisError(code: code, message: "fault", operation: "PutRecords", httpStatus: status))
        }
        func each(_ code: String) -> Result<PutRecordsResult, KinesisError> {
            .success(PutRecordsResult(records: Array(repeating: .init(errorCode: code, errorMessage: "fault"), count: batch.records.count)))
        }
        let answer: Result<PutRecordsResult, KinesisError> = switch name {
        case "InternalFailure per record": each("InternalFailure")
        case "HTTP 500": failure("InternalFailure", 500)
        case "dropped connection": failure(.transport, nil)
        case "KMSThrottlingException": failure(.kmsThrottling, 400)
        case "ProvisionedThroughputExceeded per record": each("ProvisionedThroughputExceededException")
        default: failure(.provisionedThroughputExceeded, 400)
        }
        var limiter = RateLimiter(percent: 100)
        limiter.use(map, now: Self.t0)
        for step in 1...8 { limiter.observe(batch, answer: answer, now: Self.t0 + .milliseconds(250 * step)) }
        let shard = map.entries[0].shardID
        #expect((limiter.factor(shard: shard) < 0.5) == cuts, "\(name): factor \(limiter.factor(shard: shard))")
    }
}
