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

    @Test("four producers on one stream share it: after start-up ≥ 90 % of the limit delivered, under 3 % throttled, nobody starved")
    func sharedStream() throws {
        var simulation = try PacingSimulation(producers: 4, shards: 4)
        try simulation.run(for: .seconds(5))
        let (accepted, throttled, delivered) = (simulation.serverAccepted, simulation.serverThrottled, simulation.producers.map(\.machine.stats.delivered))
        try simulation.run(for: .seconds(10))
        let windowAccepted = simulation.serverAccepted - accepted
        let windowThrottled = simulation.serverThrottled - throttled
        let share = Double(windowThrottled) / Double(windowAccepted + windowThrottled)
        let shares = zip(simulation.producers, delivered).map { Double($0.machine.stats.delivered - $1) / Double(windowAccepted) }
        print("simulated 4 producers, 4 shards, seconds 5-15: \(windowAccepted) stored (limit 40,000), \(share * 100) % throttled (\(simulation.throttledShare * 100) % from the start), shares \(shares)")
        #expect(windowAccepted >= 4000 * 10 * 90 / 100)
        #expect(windowAccepted <= 4000 * 10 + 4000)
        #expect(share < 0.03)
        #expect(shares.allSatisfy { $0 > 0.15 })  // nobody starves
    }

    @Test("a lower rate percentage paces at that share of the limit")
    func ratePercent() throws {
        var simulation = try PacingSimulation(shards: 2, limits: .off, rateLimitPercent: 50)
        try simulation.run(for: .seconds(5))
        #expect(simulation.delivered <= 1000 * 5 + 500)
        #expect(simulation.delivered >= 1000 * 5 * 95 / 100)
    }
}
