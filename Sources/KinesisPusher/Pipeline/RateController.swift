import Backoff

/// The adaptive part of one shard's budget: a factor (0 < f ≤ 1) of the configured rate, fed with what Kinesis
/// answered for that shard, that backs off when throttles come from the shard's capacity and keeps the rate when
/// they are random.
///
/// A throttle has one of two causes that no single answer tells apart: the shard's capacity (this producer's load,
/// or other producers sharing the shard), whose throttled share falls when the rate falls; or chance (a noisy
/// shard, injected faults), whose share stays the same at any rate. The controller learns the second as the
/// shard's *noise floor* and reacts only to throttled shares clearly above it:
///
/// - Answers are summed into windows of at least 200 ms and 20 Kinesis records.
/// - A window whose throttled share exceeds the floor by more than chance (three standard errors, plus 1 %) cuts
///   the factor by that excess (to between ×0.5 and ×0.8 of itself).
/// - If the next window is still above, the controller probes: it cuts until the attempted rate is well below that
///   window's (deep enough that capacity throttles would have mostly stopped), then holds the rate until it has seen
///   enough records. If the excess share did not even halve, the throttles do not depend on the rate: once two such
///   probes within 30 s agree, the mean of their shares becomes the floor, and after each the factor goes back to
///   where the episode began. Throttles count as random only if their counts spread across answers as chance would
///   (``Dispersion``): a shard shared with other producers throttles in bursts, or evenly, and a floor learned from
///   that would hide their load. Otherwise the throttles were capacity: the factor goes to 90 % of the rate the shard
///   accepted in the window that started the probe (its share of the capacity), or stays lower, and that rate is
///   remembered as the shard's ``ceiling``.
/// - Below the threshold the factor grows back by a tenth of the full rate per second (a fiftieth near a known
///   ceiling; not during an episode, nor while the budget goes unused, which proves nothing about the shard), and
///   the floor follows the shares seen (only down while a ceiling is known); it drops at once to what a window
///   shows when that is clearly below it.
///
/// Chosen by simulation against KinesisLocal's token buckets (see `PacingSimulationTests`): it keeps the full
/// rate under 20 % random throttles, while producers sharing a limited shard still back off to their share.
struct RateController: Sendable {
    /// A window closes once it is this long and holds ``windowRecords`` Kinesis records.
    static let window: Duration = .milliseconds(200)
    static let windowRecords = 20
    /// Standard errors a share must exceed the floor by to count as more than chance, and the margin on top.
    static let significance = 3.0
    static let tolerance = 0.01
    /// The factor regained per second without excess throttles, and the lowest it goes.
    static let recoveryPerSecond = 0.1
    /// The factor regained per second near a capacity a probe found (``ceiling``): slow, so producers sharing a
    /// shard creep up on its limit together instead of overshooting it, and additive, so they converge on equal
    /// shares.
    static let nearCeilingRecoveryPerSecond = 0.02
    /// The ceiling is forgotten once the factor grows this far past it without a capacity episode (the others
    /// sharing the shard left, or its limit rose).
    static let ceilingHeadroom = 1.5
    static let minimumFactor = 0.05
    /// The least and most a cut keeps of the factor.
    static let cutRange = 0.5...0.8
    /// A probe calls throttles random when their excess share at the lower rate is at least this part of what
    /// started it.
    static let keptShare = 0.5
    /// How far below the rate that started a probe the probe goes, as a part of the depth at which capacity
    /// throttles would have fallen to ``keptShare``.
    static let probeMargin = 0.7
    /// Throttles a probe expects to see (if they are random) before it decides.
    static let probeThrottles = 10.0
    /// Time a probe may take to go down, and at most in all; past it the probe decides nothing.
    static let probeDescent: Duration = .seconds(1)
    static let probeLimit: Duration = .seconds(4)
    /// Two probes that call throttles random must fall within this time for the floor to be learned.
    static let confirmation: Duration = .seconds(30)
    /// An episode that starts this soon after one that ended undecided goes back to that one's starting factor.
    static let episodeMemory: Duration = .seconds(2)
    /// The highest noise floor learned; random throttles above it are treated as capacity.
    static let maximumFloor = 0.6
    /// The part of the accepted rate a probe that found capacity resumes at.
    static let belowCapacity = 0.9
    /// Kinesis records that weigh as much as the floor when it follows the shares seen.
    static let floorWeight = 2000.0

    /// The factor as of the last call (``factor(at:)`` brings it up to date).
    private(set) var factor = 1.0
    /// The throttled share learned to be random (0 until a probe shows one).
    private(set) var noiseFloor = 0.0
    private var updatedAt: ContinuousClock.Instant
    private var windowStart: ContinuousClock.Instant
    private var windowAttempted = 0
    private var windowThrottled = 0
    private var windowDispersion = Dispersion()
    private var phase = Phase.steady
    /// The factor at which a probe last found the shard's capacity (this producer's share of it), if any.
    private(set) var ceiling: Double?
    /// The share a first probe called random, waiting for a second to agree.
    private var candidate: (share: Double, at: ContinuousClock.Instant)?
    /// The starting factor of the last episode that ended undecided.
    private var recentEpisode: (startFactor: Double, endedAt: ContinuousClock.Instant)?

    private enum Phase {
        case steady
        /// One window above the threshold cut the factor; the next decides whether to probe.
        case started(startFactor: Double)
        case probing(Probe)
    }

    /// How the throttled share varies between answers. Random throttles strike each record alone, so an answer's
    /// throttled count is binomial around the mean share; capacity throttles strike whole stretches of records
    /// (every record that came while the shard's bucket was empty), so answers are mostly all-through or mostly
    /// throttled. That spread tells the two apart where the mean does not: when this producer's own rate is a small
    /// part of a shared shard's load, cutting it hardly moves the throttled share, as with random throttles.
    struct Dispersion {
        var answers = 0
        var attempted = 0
        var throttled = 0
        /// Σ throttled² / attempted over the answers.
        var squares = 0.0

        mutating func add(attempted: Int, throttled: Int) {
            guard attempted > 0 else { return }
            answers += 1
            self.attempted += attempted
            self.throttled += throttled
            squares += Double(throttled * throttled) / Double(attempted)
        }

        mutating func add(_ other: Dispersion) {
            answers += other.answers
            attempted += other.attempted
            throttled += other.throttled
            squares += other.squares
        }

        /// Whether the answers vary as binomial counts would: Pearson's χ² per degree of freedom within three
        /// standard errors of 1 (plus a margin above for uneven records). Too even is not binomial either: a
        /// producer a little over a steadily refilling bucket sees the same share in every answer. True while too
        /// little is known.
        var isBinomial: Bool {
            guard answers > 2, throttled > 0, throttled < attempted else { return true }
            let share = Double(throttled) / Double(attempted)
            let degrees = Double(answers - 1)
            let chiSquare = (squares - share * Double(throttled)) / (share * (1 - share))
            let spread = 3 * (2 / degrees).squareRoot()
            return (1 - spread..<1.5 + spread).contains(chiSquare / degrees)
        }
    }

    private struct Probe {
        /// The excess share over the floor, and the attempted records per second, of the window that started it.
        var excess: Double
        var rate: Double
        var startFactor: Double
        /// The factor at which the shard would have taken what it accepted in that window.
        var acceptedFactor: Double
        /// The part of ``rate`` the probe goes down to.
        var depth: Double
        /// Kinesis records to see at depth before deciding.
        var needed: Double
        var deadline: ContinuousClock.Instant
        var attempted = 0
        var throttled = 0
        var dispersion = Dispersion()
        /// Once down at the depth, every window counts: a window's rate above it again (retries catching up) is
        /// no reason to go lower.
        var isDown = false
    }

    init(now: ContinuousClock.Instant) {
        updatedAt = now
        windowStart = now
    }

    /// The factor at `now`, grown back since the last call unless an episode is under way or, with `growing` false,
    /// the rate was not used up meanwhile (a factor that grows while few records come would let a burst through far
    /// above the shard's share when they do).
    mutating func factor(at now: ContinuousClock.Instant, growing: Bool = true) -> Double {
        advance(to: now, growing: growing)
        return factor
    }

    /// What one answer said about this shard: `attempted` Kinesis records sent to it, `throttled` of them with
    /// `ProvisionedThroughputExceededException`. A request refused whole (`perRecord` false) counts in the share but
    /// not in the spread: it says nothing about how throttles fall on records.
    mutating func observe(attempted: Int, throttled: Int, perRecord: Bool = true, now: ContinuousClock.Instant) {
        advance(to: now)
        windowAttempted += attempted
        windowThrottled += throttled
        if perRecord { windowDispersion.add(attempted: attempted, throttled: throttled) }
        let elapsed = now - windowStart
        guard elapsed >= Self.window, windowAttempted >= Self.windowRecords else { return }
        let count = windowAttempted
        let throttledCount = windowThrottled
        let dispersion = windowDispersion
        windowStart = now
        windowAttempted = 0
        windowThrottled = 0
        windowDispersion = Dispersion()
        let rate = Double(count) / elapsed.inSeconds
        evaluate(attempted: count, throttled: throttledCount, dispersion: dispersion, rate: rate, now: now)
    }

    private mutating func advance(to now: ContinuousClock.Instant, growing: Bool = true) {
        let elapsed = now - updatedAt
        guard elapsed > .zero else { return }
        updatedAt = now
        guard factor < 1, growing else { return }
        // Not during an episode: growth between windows would undo a descent's cuts at low rates (a tenth per second
        // against a fifth of a small factor per window), and the probe would never get down.
        guard case .steady = phase else { return }
        let perSecond = ceiling == nil ? Self.recoveryPerSecond : Self.nearCeilingRecoveryPerSecond
        factor = min(1, factor + perSecond * elapsed.inSeconds)
        if let ceiling, factor > Self.ceilingHeadroom * ceiling { self.ceiling = nil }
    }

    private mutating func evaluate(
        attempted count: Int,
        throttled: Int,
        dispersion: Dispersion,
        rate: Double,
        now: ContinuousClock.Instant
    ) {
        let n = Double(count)
        let share = Double(throttled) / n
        let z = Self.significance
        if noiseFloor > 0 {
            // What the window proves at most; a floor above it was too high.
            let upper = share + z * (max(share, 1 / n) * (1 - share) / n).squareRoot() + z * z / (2 * n)
            if upper < noiseFloor { noiseFloor = upper }
        }
        let threshold = noiseFloor + z * (max(noiseFloor, 0.01) * (1 - noiseFloor) / n).squareRoot() + Self.tolerance
        let above = share > threshold
        switch phase {
        case .steady:
            if above {
                var start = factor
                if let recent = recentEpisode, now - recent.endedAt < Self.episodeMemory { start = max(start, recent.startFactor) }
                phase = .started(startFactor: start)
                cut(share)
            } else if noiseFloor > 0 {
                // Near a capacity a probe found, the shares seen hold capacity throttles too: the floor only follows
                // them down there (up, it would creep over the capacity), both ways elsewhere (down only, it drifts
                // low and every dip brings an episode).
                let change = ceiling == nil ? share - noiseFloor : min(0, share - noiseFloor)
                noiseFloor = min(Self.maximumFloor, noiseFloor + n / (n + Self.floorWeight) * change)
            }
        case .started(let startFactor):
            guard above else {
                recentEpisode = (startFactor, now)
                phase = .steady
                return
            }
            let excess = share - noiseFloor
            let needed = max(Double(Self.windowRecords), Self.probeThrottles / max(0.001, Self.keptShare * excess))
            let depth = Self.probeMargin * (1 - excess) / (1 - Self.keptShare * excess)
            let time = min(Self.probeLimit, Self.probeDescent + .seconds(1.5 * needed / max(1, depth * rate)))
            phase = .probing(Probe(
                excess: excess,
                rate: rate,
                startFactor: startFactor,
                acceptedFactor: factor * (1 - share),
                depth: depth,
                needed: needed,
                deadline: now + time
            ))
            cut(share)
        case .probing(var probe):
            if now > probe.deadline {
                // Undecided (the rate would not go down, or others changed theirs meanwhile).
                recentEpisode = (probe.startFactor, now)
                phase = .steady
                if above { cut(share) }
                return
            }
            guard probe.isDown || rate <= probe.depth * probe.rate || factor <= Self.minimumFactor else {
                // On down to the depth even if the throttles stopped: only there does their share say which they were.
                cut(max(share, noiseFloor + 1 - Self.cutRange.upperBound))
                phase = .probing(probe)
                return
            }
            probe.isDown = true
            probe.attempted += count
            probe.throttled += throttled
            probe.dispersion.add(dispersion)
            guard Double(probe.attempted) >= probe.needed else {
                phase = .probing(probe)
                return
            }
            phase = .steady
            recentEpisode = nil
            let probed = Double(probe.throttled) / Double(probe.attempted)
            guard probed - noiseFloor >= Self.keptShare * probe.excess, probe.dispersion.isBinomial else {
                // Capacity: resume just below what the shard accepted.
                factor = max(factor, min(probe.startFactor, Self.belowCapacity * probe.acceptedFactor))
                ceiling = probe.acceptedFactor
                return
            }
            // Random: the share hardly fell with the rate (and a ceiling found before was likely noise too).
            ceiling = nil
            if let candidate, now - candidate.at < Self.confirmation {
                noiseFloor = min(Self.maximumFloor, max(noiseFloor, (probed + candidate.share) / 2))
                self.candidate = nil
            } else {
                candidate = (probed, now)
            }
            factor = max(factor, probe.startFactor)
        }
    }

    private mutating func cut(_ share: Double) {
        let kept = min(Self.cutRange.upperBound, max(Self.cutRange.lowerBound, 1 - (share - noiseFloor)))
        factor = max(Self.minimumFactor, factor * kept)
    }
}
