import Dispatch
import Foundation
import LineInput

/// The lines of a file as they are appended, followed through rotation like `tail -F`.
///
/// - Rotation by rename (logrotate's default): the old file is read to its end (a writer may still finish a line
///   in it), its last partial line is sent as a line, then the new file under the path is read from its start.
/// - Rotation by truncation (copytruncate): reading starts again at offset 0.
/// - A file that does not exist yet, or disappears for a while, is waited for.
/// - A partial last line (no `\n` yet) waits until it is complete, or until ``stop()``.
///
/// New data is noticed at once through inotify where it is available, else by polling every
/// ``Configuration/pollInterval``; a follower waiting for data uses no CPU. All reads and waits happen on a
/// Dispatch thread, never on the cooperative pool; cancelling the iterating task ends a wait at once.
///
/// Each ``Chunk`` says which file its lines came from and the offset after them, so a shipper can checkpoint the
/// position of delivered lines (``FileCheckpoint``) and resume from it (``init(path:resumingFrom:configuration:)``).
public struct FileFollower: AsyncSequence, Sendable {
    /// How a follower reads and waits.
    public struct Configuration: Sendable {
        /// Bytes asked for by each read. Default 128 KiB.
        public var chunkSize: Int
        /// How often the file is looked at without inotify; with it, how often it is looked at anyway (for file
        /// systems whose changes inotify does not see, such as NFS). Default 250 ms; with inotify 1 s.
        public var pollInterval: Duration

        public init(chunkSize: Int = 128 * 1024, pollInterval: Duration = .milliseconds(250)) {
            precondition(chunkSize > 0, "a chunk holds at least one byte")
            self.chunkSize = chunkSize
            self.pollInterval = pollInterval
        }
    }

    /// Something the follower did that a shipper may want to report.
    public enum Event: Sendable, Hashable {
        /// A file was opened at this path and offset: at start, or after a rotation.
        case opened(path: String, offset: Int64)
        /// The checkpoint was used: reading resumes in `path` (the followed path, or the rotated file that is
        /// the checkpoint's) at `offset`.
        case resumed(path: String, offset: Int64)
        /// The checkpoint matches no file: the path is read from its start. `reason` says why.
        case checkpointMismatch(reason: String)
        /// The path now names another file: the old one was read to its end.
        case rotated
        /// The file became shorter than what was read: it was truncated, and is read again from its start.
        case truncated(previousOffset: Int64)
        /// The path names no file (yet); the follower waits for one.
        case missing
        /// ``reopen()`` was done: the file being read was opened again and reading goes on at `offset` (the
        /// position after its last complete line).
        case reopened(path: String, offset: Int64)
    }

    /// Lines read in one go, and where they end.
    public struct Chunk: Sendable {
        /// Complete lines without their `\n` (a `\r` before it dropped); may be empty when only events happened.
        public var lines: [[UInt8]]
        /// The offset just after each of ``lines`` (after its `\n`; for a last line without one, where the file
        /// ended): the position to checkpoint once that line and those before it are delivered.
        public var lineEndOffsets: [Int64]
        /// The file the lines came from, fingerprinted over its first bytes up to ``endOffset``.
        public var identity: FileIdentity?
        /// The path the file was opened under.
        public var path: String
        /// The offset in that file just after the last of ``lines`` (or where reading stands, for no lines).
        public var endOffset: Int64
        /// What happened before these lines, in order.
        public var events: [Event]
    }

    /// The followed path.
    public let path: String
    let checkpoint: FileCheckpoint?
    let configuration: Configuration
    let control = FollowerControl()

    /// Follows `path` from its start, or from `checkpoint` when it matches the file under the path or a rotated
    /// file beside it (found by device, inode and fingerprint; that one is finished first).
    public init(path: String, resumingFrom checkpoint: FileCheckpoint? = nil, configuration: Configuration = Configuration()) {
        self.path = path
        self.checkpoint = checkpoint
        self.configuration = configuration
    }

    /// Ends the sequence at once: reading stops, and a partial line already read comes as a last chunk unless
    /// `sendingPartialLine` is `false` (a checkpointed shipper leaves it for the next run, which reads it whole).
    public func stop(sendingPartialLine: Bool = true) {
        control.request(sendingPartialLine ? .now : .nowWithoutPartialLine)
    }

    /// Ends the sequence once the file is read to its end (as it is now), its partial last line included: for
    /// reading a file once rather than following it.
    public func stopAtEnd() {
        control.request(.atEnd)
    }

    /// Opens the file again once what is in it now is read (an operator's SIGHUP): the same file goes on where it
    /// was, a path that names another file by now is read from its start as after a rotation, and a missing one is
    /// looked for again at once. The directory is watched again too, in case it was replaced.
    public func reopen() {
        control.requestReopen()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: FollowReader
        let control: FollowerControl

        public mutating func next() async throws -> Chunk? {
            try Task.checkCancellation()
            let reader = reader
            let result: Chunk? = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async {
                        continuation.resume(with: Result { try reader.next() })
                    }
                }
            } onCancel: { [control] in
                control.cancel()
            }
            try Task.checkCancellation()
            return result
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: FollowReader(path: path, checkpoint: checkpoint, configuration: configuration, control: control), control: control)
    }
}
