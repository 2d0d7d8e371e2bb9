import KinesisAPI

@testable import KinesisPusher

// Tests build answers in their public form; the producer reads them as `PutRecordsOutcomes`.

extension RunnerStateMachine {
    @_disfavoredOverload
    mutating func complete(_ batch: Batch, with answer: Result<PutRecordsResult, KinesisError>, now: ContinuousClock.Instant) -> Effects {
        complete(batch, with: answer.map(PutRecordsOutcomes.init), now: now)
    }
}

extension RateLimiter {
    @_disfavoredOverload
    mutating func observe(_ batch: RunnerStateMachine.Batch, answer: Result<PutRecordsResult, KinesisError>, now: ContinuousClock.Instant) {
        observe(batch, answer: answer.map(PutRecordsOutcomes.init), now: now)
    }
}
