import Crypto
import Foundation

/// What tells one file from another across renames: its device and inode, and a fingerprint of its first bytes
/// against an inode the file system reused for a new file.
public struct FileIdentity: Sendable, Hashable, Codable {
    /// The bytes a fingerprint covers at most.
    public static let fingerprintLimit = 1024

    public var device: UInt64
    public var inode: UInt64
    /// SHA-256 of the file's first ``fingerprintLength`` bytes, in hex; empty for none.
    public var fingerprint: String
    /// How many bytes the fingerprint covers: the file's first bytes up to ``fingerprintLimit``, and never more
    /// than had been delivered (those bytes no longer change unless the file is replaced).
    public var fingerprintLength: Int

    public init(device: UInt64, inode: UInt64, fingerprint: String, fingerprintLength: Int) {
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
    }

    /// The identity of the open file `descriptor`, its fingerprint over its first `min(length, limit)` bytes;
    /// `nil` when `fstat` or the read fails, or the file holds fewer bytes than that.
    public static func of(descriptor: Int32, fingerprintingUpTo length: Int) -> FileIdentity? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        let count = max(0, min(length, fingerprintLimit))
        guard let fingerprint = fingerprint(descriptor: descriptor, length: count) else { return nil }
        return FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), fingerprint: fingerprint, fingerprintLength: count)
    }

    /// Whether the open file `descriptor` is this file: the same device and inode, and the same first bytes.
    public func matches(descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0, UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode else { return false }
        return Self.fingerprint(descriptor: descriptor, length: fingerprintLength) == fingerprint
    }

    /// SHA-256 in hex of the first `length` bytes (read with `pread`, the file position untouched); `nil` if the
    /// file is shorter or cannot be read.
    static func fingerprint(descriptor: Int32, length: Int) -> String? {
        guard length > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, length - done, off_t(done)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            done += count
        }
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
