extension RunnerStateMachine {
    /// Uses `map` from now on (its records re-laned when it differs), and settles the aggregates that were waiting
    /// for it.
    mutating func install(_ map: ShardMap, now: ContinuousClock.Instant) -> Effects {
        if self.map?.entries != map.entries {
            self.map = map
            mapShardNumbers = map.entries.map { number(ofShard: $0.shardID) }
            lanes.relane(for: map)
        }
        lastRefresh = now
        limiter.use(map, now: now)
        var effects = Effects()
        let waiting = landed
        landed = []
        for aggregate in waiting { settle(aggregate, now: now, waitIfUnknown: false, into: &effects) }
        return effects
    }

    mutating func number(ofShard id: String) -> Int32 {
        if let number = shardNumbers[id] { return number }
        let number = Int32(shardNames.count)
        shardNames.append(id)
        shardNumbers[id] = number
        return number
    }

    mutating func useStreamWideBudget(openShards: Int, now: ContinuousClock.Instant) {
        limiter.useStreamWide(openShards: openShards, now: now)
    }

    mutating func requestRefresh() { refreshRequested = true }

    /// Whether to list the shards now (interval passed, or a stale map was noticed); marks a refresh in flight.
    mutating func startRefreshIfDue(now: ContinuousClock.Instant) -> Bool {
        guard let due = nextRefresh(now: now), due <= now else { return false }
        refreshInFlight = true
        refreshRequested = false
        lastRefresh = now
        return true
    }

    mutating func refreshFinished() { refreshInFlight = false }

    /// When the shards are to be listed next (`now` when overdue or asked for); `nil` while a listing is under way.
    func nextRefresh(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard !refreshInFlight else { return nil }
        guard !refreshRequested, let lastRefresh else { return now }
        return max(now, lastRefresh + limits.shardRefreshInterval)
    }
}
