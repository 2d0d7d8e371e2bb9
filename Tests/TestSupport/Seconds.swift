import Backoff

/// Seconds since `start`, for printing and for bounds that leave room for a loaded machine.
public func seconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).inSeconds
}
