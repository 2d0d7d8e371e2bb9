extension Runner {
    /// Queues records in order, as ``send(_:)`` would one after the other, but taking the runner's lock once for
    /// as many as the buffer has room for, and waking the run loop at most once per lock taken.
    ///
    /// Every record is checked (key length, sizes, hash key) before any is offered. Records the buffer has room
    /// for are accepted at once; when it fills, the call suspends until the next one fits (backpressure, as with
    /// ``send(_:)``), then takes as many as fit again. Returns once every record is accepted.
    ///
    /// Throws ``RunnerBatchError`` when a record cannot be accepted: it is invalid, shutdown began, the stream is
    /// unusable, or the task was cancelled while waiting. The error's ``RunnerBatchError/acceptedCount`` says
    /// how many records from the start were accepted; the record at that offset is the one refused (its reason is
    /// ``RunnerBatchError/error``), and the records after it were not offered: send them again, without the
    /// refused one, to go on. An invalid record in the middle thus leaves the valid records before it accepted.
    public func send<Records: Collection<Record>>(contentsOf records: Records) async throws {
        var hashes: [UInt128] = []
        hashes.reserveCapacity(records.count)
        var invalid: (any Error)?
        for record in records {
            do {
                hashes.append(try validate(record))
            } catch {
                invalid = error
                break
            }
        }
        var index = records.startIndex
        var accepted = 0
        while accepted < hashes.count {
            let now = ContinuousClock.now
            let (wakesLoop, refusal) = state.withLock { state -> (Bool, RunnerError?) in
                var wakesLoop = false
                while accepted < hashes.count {
                    let id = state.makeID()
                    let result = state.offer(
                        records[index], id: id, hash: hashes[accepted], completion: .handler, resume: nil,
                        mayWait: false, countsRefusal: false, now: now
                    )
                    switch result {
                    case .accepted(let wakes):
                        wakesLoop = wakesLoop || wakes
                        accepted += 1
                        records.formIndex(after: &index)
                    case .refused(let error):
                        return (wakesLoop, error)
                    case .full, .waiting:
                        return (wakesLoop, nil)
                    }
                }
                return (wakesLoop, nil)
            }
            if wakesLoop { wake() }
            if let refusal { throw RunnerBatchError(acceptedCount: accepted, error: refusal) }
            guard accepted < hashes.count else { break }
            // The buffer is full: wait in line with the next record, as `send` does, then take the rest in bulk.
            do {
                try await send(records[index])
            } catch {
                throw RunnerBatchError(acceptedCount: accepted, error: error)
            }
            accepted += 1
            records.formIndex(after: &index)
        }
        if let invalid { throw RunnerBatchError(acceptedCount: accepted, error: invalid) }
    }
}
