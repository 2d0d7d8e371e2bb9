import Dispatch
import Foundation
import KinesisPusher
import KinesisPusherFiles
import Synchronization

/// `push --follow` / `--checkpoint`: the files, how far each is delivered without a gap, and the checkpoint file.
///
/// Each record's tag is its file's index (high bits) and its number in that file's ``AcknowledgedPrefix``; the
/// runner's delivery handler hands the tags back, and the prefixes' marks are what the checkpoint file records.
final class FileShipping: Sendable {
    /// A delivered position: the file (which may be a rotated one by now), the path it was read under, and the
    /// offset after a line.
    struct Position: Sendable, Equatable {
        var identity: FileIdentity
        var path: String
        var offset: Int64
    }

    /// How far a file is: what an operator watches while following.
    struct Progress: Sendable {
        var path: String
        /// Bytes not yet delivered: the rest of the file the delivered position is in, plus the file now under
        /// the path when that is another one (rotated files in between are not counted).
        var bytesBehind: Int64
        /// Records of this file delivered in this run.
        var delivered: Int
    }

    private struct State {
        var prefixes: [AcknowledgedPrefix<Position?>]
        /// The mark of each file's last registered group.
        var registered: [Position?]
        var delivered: [Int]
    }

    /// Bits of a tag that number records within a file: 2^40 records per file and run.
    static let numberBits: UInt64 = 40

    /// The followed paths, absolute (a checkpoint is found by path).
    let paths: [String]
    /// Keep reading appended lines (`--follow`), or read each file to its end once.
    let follow: Bool
    let checkpointFile: CheckpointFile?
    /// The checkpoints found at start, also those of files not named this time (kept as they are).
    let stored: [FileCheckpoint]
    private let state: Mutex<State>
    private let lastWritten = Mutex<[FileCheckpoint]?>(nil)
    private let writes = DispatchQueue(label: "kinesis-pusher.checkpoints")

    init(paths: [String], follow: Bool, checkpointPath: String?) throws(CheckpointError) {
        let directory = FileManager.default.currentDirectoryPath
        self.paths = paths.map { $0.hasPrefix("/") ? $0 : (directory as NSString).appendingPathComponent($0) }
        self.follow = follow
        checkpointFile = checkpointPath.map(CheckpointFile.init(path:))
        stored = try checkpointFile?.load() ?? []
        let stored = stored
        let prefixes = self.paths.map { path in
            let checkpoint = stored.last { $0.path == path }
            return AcknowledgedPrefix(startingAt: checkpoint.map { Position(identity: $0.identity, path: path, offset: $0.offset) })
        }
        state = Mutex(State(prefixes: prefixes, registered: prefixes.map(\.mark), delivered: Array(repeating: 0, count: prefixes.count)))
    }

    /// The stored checkpoint of the file at `index`, if any.
    func checkpoint(forFile index: Int) -> FileCheckpoint? {
        stored.last { $0.path == paths[index] }
    }

    /// Records per checkpoint step: one word of ``AcknowledgedPrefix``'s bitset.
    static let groupSize = 64

    /// Registers consecutive groups of records of file `index`, each ending at its mark; returns the first
    /// record's tag (the rest follow in order).
    func register(file index: Int, groups: [(count: Int, mark: Position?)]) -> UInt64 {
        let first = state.withLock { state in
            var first: UInt64?
            for group in groups {
                // A group without a position (its file could not be fingerprinted) ends where the one before did.
                let mark = group.mark ?? state.registered[index]
                state.registered[index] = mark
                let numbers = state.prefixes[index].append(count: group.count, mark: mark)
                if first == nil { first = numbers.lowerBound }
            }
            return first
        }
        return UInt64(index) << Self.numberBits | (first ?? 0)
    }

    /// The runner's delivery handler: the tags of delivered records.
    func acknowledge(_ tags: [UInt64]) {
        let mask: UInt64 = 1 << Self.numberBits - 1
        state.withLock { state in
            for tag in tags {
                let index = Int(tag >> Self.numberBits)
                guard index < state.prefixes.count else { continue }
                state.prefixes[index].acknowledge(tag & mask)
                state.delivered[index] += 1
            }
        }
    }

    /// Records read but not yet in a file's delivered prefix: what a crash now would send again at most.
    var beyondCheckpoints: Int {
        state.withLock { $0.prefixes.reduce(0) { $0 + $1.beyondPrefix } }
    }

    /// The checkpoints as they stand: one per file with a delivered position, then the stored ones of other paths.
    var checkpoints: [FileCheckpoint] {
        let marks = state.withLock { $0.prefixes.map(\.mark) }
        // Under the followed path also when the position is in a rotated file: a restart finds it by its identity.
        let named = zip(paths, marks).compactMap { path, mark in
            mark.map { FileCheckpoint(path: path, identity: $0.identity, offset: $0.offset) }
        }
        let followed = Set(paths)
        return named + stored.filter { !followed.contains($0.path) }
    }

    /// Each file's progress, from its delivered position and the sizes of the files now (a `stat` each).
    var progress: [Progress] {
        let (marks, delivered) = state.withLock { ($0.prefixes.map(\.mark), $0.delivered) }
        return paths.indices.map { index in
            let path = paths[index]
            let current = Self.status(of: path)
            var behind = current?.size ?? 0
            if let mark = marks[index] {
                let isCurrent = current.map { $0.device == mark.identity.device && $0.inode == mark.identity.inode } ?? false
                if isCurrent {
                    behind -= mark.offset
                } else if let rotated = Self.status(of: mark.path), rotated.inode == mark.identity.inode {
                    behind += rotated.size - mark.offset
                }
            }
            return Progress(path: path, bytesBehind: max(0, behind), delivered: delivered[index])
        }
    }

    private static func status(of path: String) -> (device: UInt64, inode: UInt64, size: Int64)? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return (UInt64(status.st_dev), UInt64(status.st_ino), Int64(status.st_size))
    }

    /// Writes the checkpoints if they changed since the last write; the error, if the write failed. Writes are
    /// done one at a time on a queue of their own: `fsync` must not block the cooperative pool.
    func writeIfChanged() async -> CheckpointError? {
        await withCheckedContinuation { (continuation: CheckedContinuation<CheckpointError?, Never>) in
            writes.async {
                do throws(CheckpointError) {
                    try self.writeNowIfChanged()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
        }
    }

    private func writeNowIfChanged() throws(CheckpointError) {
        guard let checkpointFile else { return }
        let checkpoints = checkpoints
        guard lastWritten.withLock({ $0 != checkpoints }) else { return }
        try checkpointFile.store(checkpoints)
        lastWritten.withLock { $0 = checkpoints }
    }
}
