import Foundation

/// The checkpoints of a file shipper on disk: one JSON file holding a ``FileCheckpoint`` per followed file.
///
/// Written atomically: a temporary file beside it, `fsync`, `rename` over the old one, `fsync` of the directory.
/// A crash at any moment leaves the old checkpoints or the new ones, never a torn file.
public struct CheckpointFile: Sendable {
    /// Where the checkpoints live.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    private struct Contents: Codable {
        var version: Int
        var files: [FileCheckpoint]
    }

    /// The stored checkpoints; none when the file does not exist yet.
    public func load() throws(CheckpointError) -> [FileCheckpoint] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return []
        } catch {
            throw CheckpointError(.unreadable, message: "cannot read checkpoint file \(path): \(error.localizedDescription)", underlying: error)
        }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
        } catch {
            throw CheckpointError(.malformed, message: "checkpoint file \(path) is not a kinesis-pusher checkpoint file: \(error)", underlying: error)
        }
        guard contents.version == 1 else {
            throw CheckpointError(.malformed, message: "checkpoint file \(path) has version \(contents.version); this kinesis-pusher reads version 1")
        }
        return contents.files
    }

    /// Replaces the stored checkpoints with `checkpoints`, atomically and durably.
    public func store(_ checkpoints: [FileCheckpoint]) throws(CheckpointError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(Contents(version: 1, files: checkpoints))
        } catch {
            throw CheckpointError(.unwritable, message: "cannot encode checkpoints for \(path): \(error)", underlying: error)
        }
        // Named for the process: two shippers given the same file by mistake do not rename each other's halves.
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw systemError("cannot create \(temporary)") }
        var written = 0
        let failure: Int32? = data.withUnsafeBytes { bytes in
            while written < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += count
            }
            return fsync(descriptor) == 0 ? nil : errno
        }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw systemError("cannot write \(temporary)", errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let failure = errno
            unlink(temporary)
            throw systemError("cannot rename \(temporary) to \(path)", errno: failure)
        }
        // The rename is durable once the directory is synced.
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    private func systemError(_ what: String, errno code: Int32 = errno) -> CheckpointError {
        CheckpointError(.unwritable, message: "\(what): \(String(cString: strerror(code)))", underlying: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO))
    }
}
