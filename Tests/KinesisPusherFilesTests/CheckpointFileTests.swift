import Foundation
import Testing

@testable import KinesisPusherFiles

@Suite("Checkpoint file")
struct CheckpointFileTests {
    @Test("stored checkpoints load back; a missing file holds none; no temporary file is left")
    func roundTrip() throws {
        let directory = try temporaryDirectory("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = CheckpointFile(path: directory + "/state.json")
        #expect(try file.load().isEmpty)
        let identity = FileIdentity(device: 2049, inode: 77, fingerprint: "ab", fingerprintLength: 3)
        let checkpoints = [
            FileCheckpoint(path: "/var/log/app.log", identity: identity, offset: 1234),
            FileCheckpoint(path: "/var/log/other.log", identity: identity, offset: 0),
        ]
        try file.store(checkpoints)
        #expect(try file.load() == checkpoints)
        try file.store([checkpoints[1]])
        #expect(try file.load() == [checkpoints[1]])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["state.json"])
    }

    @Test("a file that is not a checkpoint file, or of another version, is an error naming it")
    func malformed() throws {
        let directory = try temporaryDirectory("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state.json"
        for (text, cause) in [("{not json", "is not a kinesis-pusher checkpoint file"), (#"{"version":9,"files":[]}"#, "has version 9")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: CheckpointError.self) { try CheckpointFile(path: path).load() }
            #expect(error.code == .malformed)
            #expect(error.message.contains(path) && error.message.contains(cause), "\(error.message)")
        }
    }

    @Test("a checkpoint that cannot be written says where and why, and leaves the old one")
    func unwritable() throws {
        let directory = try temporaryDirectory("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = try #require(throws: CheckpointError.self) {
            try CheckpointFile(path: directory + "/missing/state.json").store([])
        }
        #expect(error.code == .unwritable)
        #expect(error.message.contains("missing/state.json.tmp-") && error.message.contains("No such file"), "\(error.message)")
    }

    @Test("a file's identity: its inode and first bytes; another file, or other first bytes, do not match")
    func identity() throws {
        let directory = try temporaryDirectory("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.log"
        try Data("first line\nsecond line\n".utf8).write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let identity = try #require(FileIdentity.of(descriptor: descriptor, fingerprintingUpTo: 11))
        #expect(identity.fingerprintLength == 11)
        #expect(identity.matches(descriptor: descriptor))
        #expect(FileIdentity.of(descriptor: descriptor, fingerprintingUpTo: 4096) == nil, "shorter than asked")
        // The same inode with other first bytes (rewritten in place) is another file.
        let writer = open(path, O_WRONLY)
        _ = "F".withCString { pwrite(writer, $0, 1, 0) }
        close(writer)
        #expect(!identity.matches(descriptor: descriptor))
        // A copy has the same bytes but another inode.
        try FileManager.default.copyItem(atPath: path, toPath: directory + "/copy.log")
        let copy = open(directory + "/copy.log", O_RDONLY)
        defer { close(copy) }
        var copied = identity
        copied.fingerprint = try #require(FileIdentity.of(descriptor: copy, fingerprintingUpTo: 11)).fingerprint
        #expect(!copied.matches(descriptor: copy))
    }
}
