import Foundation
import Testing
import TestSupport

@testable import KinesisPusherFiles

/// A follower running in a task, its chunks collected.
final class Following: Sendable {
    let follower: FileFollower
    let chunks = Locked<[FileFollower.Chunk]>([])
    let task: Task<Void, any Error>

    init(_ path: String, resumingFrom checkpoint: FileCheckpoint? = nil, pollInterval: Duration = .milliseconds(250)) {
        let follower = FileFollower(path: path, resumingFrom: checkpoint, configuration: .init(chunkSize: 64, pollInterval: pollInterval))
        self.follower = follower
        let chunks = chunks
        task = Task {
            for try await chunk in follower { chunks.withLock { $0.append(chunk) } }
        }
    }

    var lines: [String] { chunks.withLock { $0.flatMap(\.lines).map { String(decoding: $0, as: UTF8.self) } } }
    var events: [FileFollower.Event] { chunks.withLock { $0.flatMap(\.events) } }
    var last: FileFollower.Chunk? { chunks.withLock { $0.last { !$0.lines.isEmpty } } }

    func waitFor(lines count: Int) async throws {
        try await until(timeout: .seconds(10)) { self.lines.count >= count }
    }

    /// Stops the follower and waits for the sequence to end.
    func stop() async throws {
        follower.stop()
        try await task.value
    }
}

func append(_ text: String, to path: String) {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    precondition(descriptor >= 0, "cannot open \(path)")
    _ = text.withCString { write(descriptor, $0, strlen($0)) }
    close(descriptor)
}

/// A new directory under the temporary directory (the caller removes it).
func temporaryDirectory(_ prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("FileFollower", .timeLimit(.minutes(1)))
struct FileFollowerTests {
    @Test("appended lines arrive with the offset after them; a partial line waits, and is sent at stop")
    func appends() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("one\ntwo\r\n", to: path)
        let following = Following(path)
        try await following.waitFor(lines: 2)
        #expect(following.last?.endOffset == 9)
        append("thr", to: path)
        append("ee\nfour", to: path)
        try await following.waitFor(lines: 3)
        #expect(following.last?.endOffset == 15, "after 'three\\n', not after the partial 'four'")
        try await Task.sleep(for: .milliseconds(300))
        #expect(following.lines == ["one", "two", "three"])
        try await following.stop()
        #expect(following.lines == ["one", "two", "three", "four"])
        #expect(following.chunks.withLock { $0.flatMap(\.lineEndOffsets) } == [4, 9, 15, 19], "after each \\n; the partial line: where the file ends")
        #expect(following.last?.endOffset == 19)
        #expect(following.events == [.opened(path: path, offset: 0)])
        let identity = try #require(following.last?.identity)
        #expect(identity.fingerprintLength == 19)
    }

    @Test("rotation by rename: the old file is finished, the new one read from its start")
    func renameRotation() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("a1\na2\n", to: path)
        let following = Following(path)
        try await following.waitFor(lines: 2)
        let oldInode = try #require(following.last?.identity?.inode)
        rename(path, path + ".1")
        append("a3\npartial", to: path + ".1")  // the writer has not moved on yet
        try await Task.sleep(for: .milliseconds(100))
        append("b1\nb2\n", to: path)
        try await following.waitFor(lines: 6)
        try await following.stop()
        #expect(following.lines == ["a1", "a2", "a3", "partial", "b1", "b2"])
        #expect(following.chunks.withLock { $0.flatMap(\.lineEndOffsets) } == [3, 6, 9, 16, 3, 6], "the rotated file's partial line ends at its end")
        #expect(following.events == [.opened(path: path, offset: 0), .rotated, .opened(path: path, offset: 0)])
        #expect(following.last?.identity?.inode != oldInode)
        #expect(following.last?.endOffset == 6)
    }

    @Test("rotation by truncation (copytruncate): reading starts again at 0")
    func truncation() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("before 1\nbefore 2\n", to: path)
        let following = Following(path)
        try await following.waitFor(lines: 2)
        truncate(path, 0)
        append("after\n", to: path)
        try await following.waitFor(lines: 3)
        try await following.stop()
        #expect(following.lines == ["before 1", "before 2", "after"])
        #expect(following.events == [.opened(path: path, offset: 0), .truncated(previousOffset: 18)])
        #expect(following.last?.endOffset == 6)
    }

    @Test("a file that does not exist yet is waited for; one that disappears and comes back is read again")
    func missingFile() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/later.log"
        let following = Following(path)
        try await until { following.events == [.missing] }
        append("first\n", to: path)
        try await following.waitFor(lines: 1)
        unlink(path)
        try await Task.sleep(for: .milliseconds(300))
        append("second\n", to: path)
        try await following.waitFor(lines: 2)
        try await following.stop()
        #expect(following.lines == ["first", "second"])
        #expect(following.events == [.missing, .opened(path: path, offset: 0), .rotated, .opened(path: path, offset: 0)])
    }

    @Test("resuming: from the checkpoint in the same file; in the rotated file beside it, finished first; from 0 when nothing matches")
    func resume() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("one\ntwo\n", to: path)
        let first = Following(path)
        try await first.waitFor(lines: 2)
        try await first.stop()
        let chunk = try #require(first.last)
        let checkpoint = FileCheckpoint(path: path, identity: try #require(chunk.identity), offset: chunk.endOffset)

        append("three\n", to: path)
        let same = Following(path, resumingFrom: checkpoint)
        try await same.waitFor(lines: 1)
        try await same.stop()
        #expect(same.lines == ["three"])
        #expect(same.events == [.resumed(path: path, offset: 8)])

        rename(path, path + ".1")
        append("new\n", to: path)
        let rotated = Following(path, resumingFrom: checkpoint)
        try await rotated.waitFor(lines: 2)
        try await rotated.stop()
        #expect(rotated.lines == ["three", "new"])
        #expect(rotated.events == [.resumed(path: path + ".1", offset: 8), .rotated, .opened(path: path, offset: 0)])

        unlink(path + ".1")
        let gone = Following(path, resumingFrom: checkpoint)
        try await gone.waitFor(lines: 1)
        try await gone.stop()
        #expect(gone.lines == ["new"])
        guard case .checkpointMismatch(let reason) = gone.events.first else {
            Issue.record("events: \(gone.events)")
            return
        }
        #expect(reason.contains("another file than the checkpoint's"), "\(reason)")
        #expect(gone.events.dropFirst().first == .opened(path: path, offset: 0))
    }

    @Test("a checkpoint beyond the end of its file (the file was rewritten) starts it from 0 and says so")
    func shorterFile() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("a fairly long first line\n", to: path)
        let descriptor = open(path, O_RDONLY)
        let identity = try #require(FileIdentity.of(descriptor: descriptor, fingerprintingUpTo: 25))
        close(descriptor)
        truncate(path, 0)
        append("short\n", to: path)
        let following = Following(path, resumingFrom: FileCheckpoint(path: path, identity: identity, offset: 25))
        try await following.waitFor(lines: 1)
        try await following.stop()
        #expect(following.lines == ["short"])
        guard case .checkpointMismatch(let reason) = following.events.first else {
            Issue.record("events: \(following.events)")
            return
        }
        #expect(reason.contains("is shorter (6 bytes) than the checkpoint's offset 25"), "\(reason)")
    }

    @Test("reopen: the same file goes on after its last complete line, its partial line kept")
    func reopenSameFile() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        append("one\ntwo\npar", to: path)
        let following = Following(path)
        try await following.waitFor(lines: 2)
        following.follower.reopen()
        try await until { following.events.contains(.reopened(path: path, offset: 8)) }
        append("tial\n", to: path)
        try await following.waitFor(lines: 3)
        try await following.stop()
        #expect(following.lines == ["one", "two", "partial"])
        #expect(following.events == [.opened(path: path, offset: 0), .reopened(path: path, offset: 8)])
        #expect(following.last?.endOffset == 16)
    }

    @Test("reopen after the directory was replaced: the new directory is watched, its file read")
    func reopenReplacedDirectory() async throws {
        let parent = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let directory = parent + "/logs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let path = directory + "/app.log"
        append("old\n", to: path)
        // A poll interval this long leaves inotify as the only prompt way to notice the new file.
        let following = Following(path, pollInterval: .seconds(30))
        try await following.waitFor(lines: 1)
        try FileManager.default.removeItem(atPath: directory)
        try await Task.sleep(for: .milliseconds(300))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        append("new\n", to: path)
        try await Task.sleep(for: .milliseconds(700))
        #expect(following.lines == ["old"], "the old watch does not see the new directory")
        following.follower.reopen()
        try await following.waitFor(lines: 2)
        try await following.stop()
        #expect(following.lines == ["old", "new"])
        #expect(following.events == [.opened(path: path, offset: 0), .rotated, .opened(path: path, offset: 0)])
    }

    @Test("cancelling the task ends a wait for data at once")
    func cancellation() async throws {
        let directory = try temporaryDirectory("follow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let following = Following(directory + "/idle.log", pollInterval: .seconds(30))
        try await until { following.events == [.missing] }
        let start = ContinuousClock.now
        following.task.cancel()
        await #expect(throws: CancellationError.self) { try await following.task.value }
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
