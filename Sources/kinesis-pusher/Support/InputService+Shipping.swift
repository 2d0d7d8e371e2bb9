import KinesisPusher
import KinesisPusherFiles
import LineInput
import ServiceLifecycle
import Synchronization

extension InputService {
    /// `--follow` / `--checkpoint`: every file through its own follower, at once. Without `--follow` each is read
    /// to its end; with it, until graceful shutdown, which stops the followers at once (a partial line is sent,
    /// unless a checkpoint is kept: then it stays for the next run, which reads it whole).
    func ship(_ shipping: FileShipping) async throws {
        let followers = shipping.paths.indices.map { index in
            FileFollower(path: shipping.paths[index], resumingFrom: shipping.checkpoint(forFile: index))
        }
        if !shipping.follow { followers.forEach { $0.stopAtEnd() } }
        self.followers.withLock { $0 = followers }
        let keepsPartialLines = shipping.checkpointFile != nil
        let complete = try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in followers.indices {
                    group.addTask { try await self.ship(file: index, from: followers[index], shipping: shipping) }
                }
                return try await group.reduce(true) { $0 && $1 }
            }
        } onGracefulShutdown: {
            followers.forEach { $0.stop(sendingPartialLine: !keepsPartialLines) }
        }
        // Following ends only by a signal: that is its normal end, so the push is complete if reading was.
        if complete { state.withLock { $0.complete = true } }
    }

    /// SIGHUP: every follower opens its file again once it has read what is there.
    func reopenFiles() {
        followers.withLock { $0 }.forEach { $0.reopen() }
    }

    /// Sends the lines of one follower, registering each chunk's records with the file's delivered prefix; `false`
    /// when reading stopped early (the runner refused records for good).
    private func ship(file index: Int, from follower: FileFollower, shipping: FileShipping) async throws -> Bool {
        let path = follower.path
        var keys = RandomPartitionKeys()
        var lineNumber = 0
        var startOffset: Int64 = 0
        var batch: [Record] = []
        var lineNumbers: [Int] = []
        var groups: [(count: Int, mark: FileShipping.Position?)] = []
        for try await chunk in follower {
            for event in chunk.events {
                switch event {
                case .opened(_, let offset), .resumed(_, let offset):
                    lineNumber = 0
                    startOffset = offset
                case .truncated:
                    lineNumber = 0  // read again from its start
                    startOffset = 0
                default:
                    break
                }
                if let message = Self.describe(event, path: path, follow: shipping.follow) { report(message) }
            }
            if case .missing = chunk.events.last, !shipping.follow {
                report("cannot open \(path): No such file or directory")
                state.withLock { $0.inputErrors += 1; $0.records += 1 }
                continue
            }
            batch.reserveCapacity(chunk.lines.count)
            lineNumbers.removeAll(keepingCapacity: true)
            groups.removeAll(keepingCapacity: true)
            let position = { (offset: Int64) in chunk.identity.map { FileShipping.Position(identity: $0, path: chunk.path, offset: offset) } }
            for (line, end) in zip(chunk.lines, chunk.lineEndOffsets) {
                lineNumber += 1
                do {
                    batch.append(try makeRecord(line, keys: &keys))
                    lineNumbers.append(lineNumber)
                    // A checkpoint moves a group at a time: a restart repeats at most a group beyond the delivered.
                    if batch.count % FileShipping.groupSize == 0 { groups.append((FileShipping.groupSize, position(end))) }
                } catch {
                    state.withLock { $0.records += 1; $0.inputErrors += 1 }
                    report("\(Self.name(path, line: lineNumber, after: startOffset)): \(error)")
                }
            }
            // The rest, and the chunk's end (past malformed lines at its end, or events alone).
            groups.append((batch.count % FileShipping.groupSize, position(chunk.endOffset)))
            let firstTag = shipping.register(file: index, groups: groups)
            for position in batch.indices { batch[position].tag = firstTag + UInt64(position) }
            let numbers = lineNumbers
            let sent = try await send(
                &batch,
                name: path,
                lineOf: { numbers[$0] },
                refused: { shipping.acknowledge([firstTag + UInt64($0)]) }  // reported as an input error: passed
            )
            guard sent else { return false }
        }
        return true
    }

    private static func name(_ path: String, line: Int, after offset: Int64) -> String {
        offset == 0 ? "\(path) line \(line)" : "\(path) line \(line) after offset \(offset)"
    }

    /// What an operator is told of a follower's event; `nil` for the unremarkable.
    static func describe(_ event: FileFollower.Event, path: String, follow: Bool) -> String? {
        switch event {
        case .opened(let opened, _) where opened != path: "reading \(opened)"
        case .opened: nil
        case .resumed(let resumed, let offset): "resumed \(resumed) at offset \(offset)"
        case .checkpointMismatch(let reason): "checkpoint for \(path) does not match: \(reason)"
        case .rotated: "\(path) was rotated: reading the new file from its start"
        case .truncated(let previous): "\(path) was truncated (had been read to offset \(previous)): reading it from its start"
        case .missing: follow ? "\(path) does not exist (yet): waiting for it" : nil
        case .reopened(let reopened, let offset): "reopened \(reopened) at offset \(offset)"
        }
    }
}
