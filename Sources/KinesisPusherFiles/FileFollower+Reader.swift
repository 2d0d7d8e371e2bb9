import Backoff
import Foundation
import LineInput
import Synchronization

/// The follower's work, done on one Dispatch thread at a time (the iterator waits for each ``next()``).
final class FollowReader: @unchecked Sendable {
    /// The file being read: the one under the path, or a rotated one being finished.
    private struct OpenFile {
        var descriptor: Int32
        let path: String
        let device: UInt64
        let inode: UInt64
        /// Where the next read starts.
        var readOffset: Int64
        var lines = LineBuffer()
        /// Bytes of an unfinished line held by ``lines``.
        var held: Int64 = 0
        /// The fingerprint over the file's first ``FileIdentity/fingerprintLimit`` bytes, once there are that many.
        var fullFingerprint: String?
    }

    let path: String
    private let directory: String
    private var checkpoint: FileCheckpoint?
    private let chunkSize: Int
    private let pollMilliseconds: Int32
    private let control: FollowerControl
    private let watch: FileWatch
    private var file: OpenFile?
    private var events: [FileFollower.Event] = []
    private var reportedMissing = false
    private var finished = false

    init(path: String, checkpoint: FileCheckpoint?, configuration: FileFollower.Configuration, control: FollowerControl) {
        self.path = path
        let nsPath = path as NSString
        directory = nsPath.deletingLastPathComponent.isEmpty ? "." : nsPath.deletingLastPathComponent
        self.checkpoint = checkpoint
        chunkSize = configuration.chunkSize
        self.control = control
        watch = FileWatch(directory: directory, name: nsPath.lastPathComponent)
        let interval = watch.descriptor == nil ? configuration.pollInterval : max(configuration.pollInterval, .seconds(1))
        pollMilliseconds = Int32(clamping: interval.inNanoseconds / 1_000_000)
    }

    deinit {
        if let file { close(file.descriptor) }
    }

    /// The next chunk of lines (or of events alone); `nil` once stopped. Blocks while there is nothing to read.
    func next() throws -> FileFollower.Chunk? {
        while !finished {
            if control.isCancelled { throw CancellationError() }
            // Looked at before reading, so that what is in the file when stopAtEnd() is called is still read.
            let stop = control.stop
            if stop == .now || stop == .nowWithoutPartialLine { return finish(sendingPartialLine: stop == .now) }
            if file == nil { openFile() }
            if var current = file {
                var lines: [[UInt8]] = []
                var ends: [Int64] = []
                let count = try read(&current, into: &lines, ends: &ends)
                file = current
                if count > 0 {
                    if !lines.isEmpty || !events.isEmpty { return chunk(lines, ends: ends, from: current) }
                    continue
                }
                if let change = rotationOrTruncation(of: current) {
                    Self.finishLine(of: &current, into: &lines, ends: &ends)
                    file = current
                    let result = chunk(lines, ends: ends, from: current)
                    switch change {
                    case .truncated:
                        events.append(.truncated(previousOffset: current.readOffset))
                        file?.readOffset = 0
                        file?.fullFingerprint = nil
                    case .rotated:
                        events.append(.rotated)
                        close(current.descriptor)
                        file = nil
                    }
                    if !result.lines.isEmpty { return result }
                    continue
                }
            }
            if control.takeReopenRequest() {
                reopen()
                continue
            }
            if stop == .atEnd { return finish(sendingPartialLine: true) }
            if !events.isEmpty { return chunk([], ends: [], from: file) }
            try waitForChange()
        }
        return nil
    }

    /// Opens the file being read again (at its end now, so nothing is skipped) when its name still names it;
    /// otherwise leaves it to the rotation check, which sees the other file. Without a file, the next pass opens the
    /// path if it exists by now.
    private func reopen() {
        watch.watchDirectoryAgain()
        guard let current = file else { return }
        let descriptor = open(current.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        var status = stat()
        guard fstat(descriptor, &status) == 0, UInt64(status.st_dev) == current.device, UInt64(status.st_ino) == current.inode else {
            close(descriptor)
            return
        }
        close(current.descriptor)
        var reopened = current
        reopened.descriptor = descriptor
        file = reopened
        watch.watchFile(at: current.path)
        events.append(.reopened(path: current.path, offset: current.readOffset - current.held))
    }

    /// The last chunk: the partial line held, if any (and wanted), and the events not yet told; `nil` when there are
    /// neither.
    private func finish(sendingPartialLine: Bool) -> FileFollower.Chunk? {
        finished = true
        var lines: [[UInt8]] = []
        var ends: [Int64] = []
        if sendingPartialLine, var current = file {
            Self.finishLine(of: &current, into: &lines, ends: &ends)
            file = current
        }
        return lines.isEmpty && events.isEmpty ? nil : chunk(lines, ends: ends, from: file)
    }

    /// The partial line held, as a line that ends where reading stands.
    private static func finishLine(of file: inout OpenFile, into lines: inout [[UInt8]], ends: inout [Int64]) {
        let count = lines.count
        file.lines.finish(into: &lines)
        if lines.count > count { ends.append(file.readOffset) }
        file.held = 0
    }

    private enum Change { case rotated, truncated }

    /// At the end of `file`: whether it was truncated, or the path names another file now (it was rotated). A path
    /// that names nothing keeps the old file: its writer may not have moved on yet.
    private func rotationOrTruncation(of file: OpenFile) -> Change? {
        var status = stat()
        if fstat(file.descriptor, &status) == 0, Int64(status.st_size) < file.readOffset { return .truncated }
        if file.path != path { return .rotated }  // a rotated file finished after a restart
        guard stat(path, &status) == 0 else { return nil }
        return UInt64(status.st_dev) != file.device || UInt64(status.st_ino) != file.inode ? .rotated : nil
    }

    /// One read at the file's read offset; the complete lines go into `lines`, the offset after each into `ends`.
    /// Returns the bytes read.
    private func read(_ file: inout OpenFile, into lines: inout [[UInt8]], ends: inout [Int64]) throws -> Int {
        var failure: Int32 = 0
        var count = 0
        let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, initialized in
            while true {
                let result = pread(file.descriptor, buffer.baseAddress, buffer.count, off_t(file.readOffset))
                if result >= 0 {
                    count = result
                    break
                }
                if errno != EINTR {
                    failure = errno
                    break
                }
            }
            initialized = count
        }
        if failure != 0 {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot read \(file.path): \(String(cString: strerror(failure)))"])
        }
        guard count > 0 else { return 0 }
        let start = file.readOffset
        file.readOffset += Int64(count)
        file.lines.split(chunk, into: &lines)
        // Every `\n` ends one line (the first one, the line begun in earlier reads).
        chunk.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var position = 0
            while position < count, let found = memchr(base + position, 0x0A, count - position) {
                position = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found)) + 1
                ends.append(start + Int64(position))
            }
        }
        // What the buffer holds is the bytes after the chunk's last newline (or, without one, those plus earlier).
        if let lastNewline = chunk.lastIndex(of: 0x0A) {
            file.held = Int64(count - lastNewline - 1)
        } else {
            file.held += Int64(count)
        }
        return count
    }

    /// Opens the path, or the checkpoint's file: the path's when it still is that file, else a rotated one beside
    /// it. Without a file under the path, reports it missing (once) and leaves ``file`` empty.
    private func openFile() {
        if let checkpoint {
            self.checkpoint = nil
            if let resumed = resume(checkpoint) {
                file = resumed
                events.append(.resumed(path: resumed.path, offset: resumed.readOffset))
                watch.watchFile(at: resumed.path)
                return
            }
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if !reportedMissing {
                reportedMissing = true
                events.append(.missing)
            }
            return
        }
        reportedMissing = false
        _ = control.takeReopenRequest()  // the path was just opened afresh: a pending reopen is done
        var status = stat()
        fstat(descriptor, &status)
        file = OpenFile(descriptor: descriptor, path: path, device: UInt64(status.st_dev), inode: UInt64(status.st_ino), readOffset: 0)
        events.append(.opened(path: path, offset: 0))
        watch.watchFile(at: path)
    }

    /// The checkpoint's file opened at its offset, or `nil` (with the reason as an event) when no file matches.
    private func resume(_ checkpoint: FileCheckpoint) -> OpenFile? {
        let identity = checkpoint.identity
        var reason = "no file"
        for candidate in [path] + rotatedCandidates(of: identity) {
            let descriptor = open(candidate, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            var status = stat()
            fstat(descriptor, &status)
            let isSameInode = UInt64(status.st_dev) == identity.device && UInt64(status.st_ino) == identity.inode
            if isSameInode, Int64(status.st_size) < checkpoint.offset {
                reason = "\(candidate) is shorter (\(status.st_size) bytes) than the checkpoint's offset \(checkpoint.offset)"
            } else if isSameInode, !identity.matches(descriptor: descriptor) {
                reason = "the first bytes of \(candidate) differ from the checkpoint's (the file was replaced)"
            } else if isSameInode {
                return OpenFile(descriptor: descriptor, path: candidate, device: identity.device, inode: identity.inode, readOffset: checkpoint.offset)
            } else if candidate == path {
                reason = "\(path) is another file than the checkpoint's (inode \(status.st_ino), checkpoint's \(identity.inode)) and none beside it is"
            }
            close(descriptor)
        }
        events.append(.checkpointMismatch(reason: "\(reason); reading \(path) from its start"))
        return nil
    }

    /// Files in the path's directory with the checkpoint's device and inode: where a rotation renamed it.
    private func rotatedCandidates(of identity: FileIdentity) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().map { (directory as NSString).appendingPathComponent($0) }.filter { candidate in
            var status = stat()
            return candidate != path && stat(candidate, &status) == 0
                && UInt64(status.st_dev) == identity.device && UInt64(status.st_ino) == identity.inode
        }
    }

    /// A chunk of `lines` (ending at `ends`) from `file`, with the events so far (which it takes).
    private func chunk(_ lines: [[UInt8]], ends: [Int64], from file: OpenFile?) -> FileFollower.Chunk {
        defer { events.removeAll() }
        guard let file else {
            return FileFollower.Chunk(lines: lines, lineEndOffsets: ends, identity: nil, path: path, endOffset: 0, events: events)
        }
        let end = file.readOffset - file.held
        return FileFollower.Chunk(
            lines: lines,
            lineEndOffsets: ends,
            identity: identity(of: file, upTo: end),
            path: file.path,
            endOffset: end,
            events: events
        )
    }

    /// The file's identity, fingerprinted over its first bytes up to `end` (at most the limit).
    private func identity(of file: OpenFile, upTo end: Int64) -> FileIdentity? {
        let length = Int(min(end, Int64(FileIdentity.fingerprintLimit)))
        if length == FileIdentity.fingerprintLimit, let full = file.fullFingerprint {
            return FileIdentity(device: file.device, inode: file.inode, fingerprint: full, fingerprintLength: length)
        }
        guard let fingerprint = FileIdentity.fingerprint(descriptor: file.descriptor, length: length) else { return nil }
        if length == FileIdentity.fingerprintLimit, self.file?.descriptor == file.descriptor { self.file?.fullFingerprint = fingerprint }
        return FileIdentity(device: file.device, inode: file.inode, fingerprint: fingerprint, fingerprintLength: length)
    }

    /// Waits until the file may have changed (an inotify event about it, the poll interval, or a stop).
    private func waitForChange() throws {
        while true {
            switch control.wakeUp.wait(for: watch.descriptor, timeoutMilliseconds: pollMilliseconds) {
            case .ready:
                if watch.drain() { return }
            case .timedOut, .woken:
                return
            case .failed(let code):
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot wait for \(path): \(String(cString: strerror(code)))"])
            }
        }
    }
}
