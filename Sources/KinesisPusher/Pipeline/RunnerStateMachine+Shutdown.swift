extension RunnerStateMachine {
    /// Stops intake and refuses everyone waiting; what is buffered is still flushed until `deadline`.
    mutating func beginDrain(deadline: ContinuousClock.Instant) -> Effects {
        var effects = Effects()
        guard case .accepting = phase else { return effects }
        phase = .draining(deadline: deadline)
        refuseWaiters(RunnerError(.shutdown, message: "the runner is shutting down"), into: &effects)
        return effects
    }

    /// The drain deadline passed: everything still buffered fails with `shutdown`.
    mutating func abandonBuffered() -> Effects {
        var effects = Effects()
        // After a stream-fatal error, records that were in flight then and came back for a retry fail with it too.
        failBuffered(terminal ?? RunnerError(.shutdown, message: "shutdown deadline passed before the record could be delivered"), into: &effects)
        return effects
    }

    mutating func finish() -> Effects {
        var effects = beginDrain(deadline: .now)
        effects.merge(abandonBuffered())
        phase = .finished(terminal)
        return effects
    }
}
