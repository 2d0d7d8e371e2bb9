import KinesisLocal

/// Keeps lines `record-1`, `record-2`, … flowing into a child's input pipe, and once the server holds `threshold`
/// records of stream "s", does something to the push while it runs (a signal, a deleted stream).
struct LineFeeder {
    /// Lines written into the pipe.
    var written = 0
    /// Records the server held when `action` ran; `nil` if it never ran.
    var acceptedAtAction: Int?
    /// Whether feeding ended at `limit` rather than at the child exiting or ceasing to read.
    var reachedLimit = false

    /// Feeds until the child exits, stops reading (its pipe stays full after the action), or `limit` passes.
    /// Lines keep coming after the action: the push notices a shutdown only at its next line (issue 14).
    static func feed(
        _ child: CLIProcess,
        server: KinesisLocal,
        threshold: Int = 50,
        limit: Duration = .seconds(20),
        action: () async throws -> Void
    ) async throws -> LineFeeder {
        var feeder = LineFeeder()
        let deadline = ContinuousClock.now + limit
        while !child.hasExited && ContinuousClock.now < deadline {
            let batch = (feeder.written + 1...feeder.written + 10).map { "record-\($0)\n" }.joined()
            do {
                let open = try await child.writeInput(Array(batch.utf8), timeout: feeder.acceptedAtAction == nil ? .seconds(10) : .milliseconds(300))
                guard open else { break }
            } catch is CLIProcess.Failure where feeder.acceptedAtAction != nil {
                break
            }
            feeder.written += 10
            let accepted = server.stats().streams["s"]?.accepted ?? 0
            if feeder.acceptedAtAction == nil, accepted >= threshold {
                // Records on the server: the push is past its pre-flight, its signal handlers are in place.
                feeder.acceptedAtAction = accepted
                try await action()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        feeder.reachedLimit = !child.hasExited && ContinuousClock.now >= deadline
        return feeder
    }
}
