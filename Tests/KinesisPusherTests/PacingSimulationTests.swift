import KinesisLocal
import Testing
import TestSupport

@testable import KinesisPusher

/// Pacing and the adaptive limiter on simulated time (``PacingSimulation``): the rates a run would reach, exactly,
/// however busy the machine is. The wall-clock tests in `RunnerTests` check the same against a real server with
/// margins for a loaded machine.
@Suite("Pacing on simulated time")
struct PacingSimulationTests {
    @Test("server limits off: the default rate holds open shards × 1000 records/s, plus the client's half second of burst")
    func pacingAlone() throws {
        var simulation = try PacingSimulation(shards: 2, limits: .off)
        try simulation.run(for: .seconds(5))
        let delivered = simulation.delivered
        print("simulated pacing, 2 shards, 5 s: \(delivered) delivered (limit 10,000 + 1,000 burst)")
        #expect(delivered <= 2000 * 5 + 1000)
        #expect(delivered >= 2000 * 5 * 95 / 100)
        #expect(simulation.serverThrottled == 0)
    }

    @Test("server limits on: 100 % of the limit delivered within 5 %, under 1 % of records throttled")
    func pacedAtTheLimit() throws {
        var simulation = try PacingSimulation(shards: 4)
        try simulation.run(for: .seconds(5))
        print("simulated 4 shards at the limit, 5 s: \(simulation.delivered) delivered, \(simulation.serverThrottled) throttled (\(simulation.throttledShare * 100) %)")
        #expect(simulation.delivered >= 4000 * 5 * 95 / 100)
        #expect(simulation.delivered <= 4000 * 5 + 4000)  // the server's one second of burst
        #expect(simulation.serverAccepted == simulation.delivered)
        #expect(simulation.throttledShare < 0.01)
    }

    @Test("four producers on one stream share it: ≥ 85 % of the limit delivered, under 8 % throttled, nobody starved")
    func sharedStream() throws {
        var simulation = try PacingSimulation(producers: 4, shards: 4)
        try simulation.run(for: .seconds(20))
        let shares = simulation.producers.map { Double($0.machine.stats.delivered) / Double(max(1, simulation.delivered)) }
        print("simulated 4 producers, 4 shards, 20 s: \(simulation.delivered) delivered (limit 80,000), \(simulation.throttledShare * 100) % throttled, shares \(shares)")
        #expect(simulation.delivered >= 4000 * 20 * 85 / 100)
        #expect(simulation.delivered <= 4000 * 20 + 4000)
        #expect(simulation.throttledShare < 0.08)
        // Nobody starves.
        #expect(shares.allSatisfy { $0 > 0.15 })
    }

    @Test("a lower rate percentage paces at that share of the limit")
    func ratePercent() throws {
        var simulation = try PacingSimulation(shards: 2, limits: .off, rateLimitPercent: 50)
        try simulation.run(for: .seconds(5))
        #expect(simulation.delivered <= 1000 * 5 + 500)
        #expect(simulation.delivered >= 1000 * 5 * 95 / 100)
    }
}
