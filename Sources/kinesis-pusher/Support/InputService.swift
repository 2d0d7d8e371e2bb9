import Foundation
import KinesisPusher
import KinesisPusherFiles
import LineInput
import ServiceLifecycle
import Synchronization

/// Reads the input and hands its lines to the runner in batches; returns at the end of the input (which shuts the
/// group down gracefully) or stops reading on graceful shutdown.
final class InputService: Service, Sendable {
    struct Counts {
        var records = 0
        var inputErrors = 0
        /// Every input was read to its end (not cut short by a signal or a fatal error).
        var complete = false
    }

    let runner: Runner
    let files: [String]
    let format: PushCommand.Format
    let partitionKey: String?
    let partitionKeyField: String?
    /// `--follow` or `--checkpoint`: the files are read through followers and their positions tracked.
    let shipping: FileShipping?
    let state = Mutex(Counts())
    /// The followers while shipping files, for SIGHUP.
    let followers = Mutex<[FileFollower]>([])

    init(runner: Runner, files: [String], format: PushCommand.Format, partitionKey: String?, partitionKeyField: String?, shipping: FileShipping? = nil) {
        self.runner = runner
        self.files = files
        self.format = format
        self.partitionKey = partitionKey
        self.partitionKeyField = partitionKeyField
        self.shipping = shipping
    }

    var counts: Counts { state.withLock { $0 } }

    /// Reads every input; stops at once on graceful shutdown or cancellation, also while waiting for input that
    /// does not come (an open, idle pipe or terminal).
    func run() async throws {
        if let shipping {
            try await ship(shipping)
            return
        }
        try await cancelWhenGracefulShutdown {
            do {
                for path in self.files.isEmpty ? ["-"] : self.files {
                    if Task.isCancelled { return }
                    guard try await self.read(path) else { return }
                }
                self.state.withLock { $0.complete = true }
            } catch is CancellationError {
                return
            }
        }
    }

    /// Reads one input; `false` when reading stopped early.
    ///
    /// Lines come a chunk at a time and go to the runner in batches: one `send(contentsOf:)` per run of good lines
    /// (a chunk, or the lines between two input errors), one update of the counts per batch. A line counts as read
    /// once the runner accepted or refused it, so a shutdown between batches leaves the lines after it unread.
    private func read(_ path: String) async throws -> Bool {
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY)
        guard descriptor >= 0 else {
            report("cannot open \(path): \(String(cString: strerror(errno)))")
            state.withLock { $0.inputErrors += 1; $0.records += 1 }
            return true
        }
        defer { if descriptor != 0 { close(descriptor) } }
        let name = path == "-" ? "stdin" : path
        var lineNumber = 0
        var keys = RandomPartitionKeys()
        var batch: [Record] = []
        for try await lines in LineReader(fileDescriptor: descriptor) {
            batch.reserveCapacity(lines.count)
            for line in lines {
                lineNumber += 1
                do {
                    batch.append(try makeRecord(line, keys: &keys))
                } catch {
                    // The good lines before it go first, so reports and counts keep the input's order.
                    let first = lineNumber - batch.count
                    guard try await send(&batch, name: name, lineOf: { first + $0 }) else { return false }
                    state.withLock { $0.records += 1; $0.inputErrors += 1 }
                    report("\(name) line \(lineNumber): \(error)")
                }
            }
            let first = lineNumber - batch.count + 1
            guard try await send(&batch, name: name, lineOf: { first + $0 }) else { return false }
        }
        return true
    }

    /// Hands `batch` to the runner and empties it; `false` when reading must stop (a graceful shutdown before the
    /// batch, or the runner refusing records for good).
    ///
    /// A record the runner refuses on its own (an invalid one) is reported with its line number (`lineOf` its
    /// index in the batch) and counted as an input error, and `refused` hears its index; the records after it are
    /// sent on.
    func send(
        _ batch: inout [Record],
        name: String,
        lineOf: (Int) -> Int,
        refused: (Int) -> Void = { _ in }
    ) async throws -> Bool {
        defer { batch.removeAll(keepingCapacity: true) }
        if Task.isCancelled { return false }
        var rest = batch[...]
        while !rest.isEmpty {
            do {
                try await runner.send(contentsOf: rest)
                state.withLock { $0.records += rest.count }
                return true
            } catch let failure as RunnerBatchError {
                if failure.error is CancellationError
                    || (failure.error as? RunnerError).map({ $0.code == .shutdown || $0.code == .streamUnusable }) == true
                {
                    // Reading stops: the records after the accepted ones were not read.
                    state.withLock { $0.records += failure.acceptedCount }
                    return false
                }
                state.withLock { $0.records += failure.acceptedCount + 1; $0.inputErrors += 1 }
                let index = rest.startIndex + failure.acceptedCount
                report("\(name) line \(lineOf(index)): \(failure.error)")
                refused(index)
                rest = rest[(index + 1)...]
            }
        }
        return true
    }

    func makeRecord(_ line: [UInt8], keys: inout RandomPartitionKeys) throws -> Record {
        if format == .ndjson, let key = try NDJSONLine.partitionKey(in: line, field: partitionKeyField) {
            return Record(data: line, partitionKey: key)
        }
        return Record(data: line, partitionKey: partitionKey ?? keys.next())
    }

    /// One line on standard error; on a terminal, first clearing the progress line it would otherwise run into
    /// (a log file or a script reading standard error gets the plain line).
    func report(_ message: String) {
        let clear = isatty(2) == 1 ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data("\(clear)\(message)\n".utf8))
    }
}
