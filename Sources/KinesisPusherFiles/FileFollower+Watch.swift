#if canImport(Glibc)
import Glibc
#endif

/// What wakes a follower when its file changes: on Linux an inotify descriptor watching the directory (for the path
/// being created, renamed or deleted) and the open file itself (for appends and truncation, under any name).
/// Elsewhere, or when inotify is out of watches, nothing: the follower polls.
final class FileWatch {
    /// Readable when something changed; `nil` without inotify.
    let descriptor: Int32?
    private let directory: String
    private let name: String
    private var fileWatch: Int32 = -1

    init(directory: String, name: String) {
        self.directory = directory
        self.name = name
        #if canImport(Glibc)
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if descriptor >= 0, inotify_add_watch(descriptor, directory, Self.directoryMask) >= 0 {
            self.descriptor = descriptor
        } else {
            if descriptor >= 0 { close(descriptor) }
            self.descriptor = nil
        }
        #else
        self.descriptor = nil
        #endif
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    #if canImport(Glibc)
    private static let directoryMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)
    #endif

    /// Watches the directory again: one that was deleted or replaced since has a new inode, which the old watch
    /// does not see.
    func watchDirectoryAgain() {
        #if canImport(Glibc)
        guard let descriptor else { return }
        _ = inotify_add_watch(descriptor, directory, Self.directoryMask)
        #endif
    }

    /// Watches the file now open at `path` (its inode, whatever it is renamed to) instead of the one before.
    func watchFile(at path: String) {
        #if canImport(Glibc)
        guard let descriptor else { return }
        if fileWatch >= 0 { inotify_rm_watch(descriptor, fileWatch) }
        fileWatch = inotify_add_watch(descriptor, path, UInt32(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF))
        #endif
    }

    /// Reads the pending events; `true` when one concerns the followed file (the directory's events for other
    /// names are dropped, so a busy directory does not make the follower look at its file for nothing).
    func drain() -> Bool {
        #if canImport(Glibc)
        guard let descriptor else { return true }
        var relevant = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return relevant || count < 0 && errno != EAGAIN && errno != EINTR }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let (watch, length) = buffer.withUnsafeBytes { bytes in
                    (bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                if watch == fileWatch {
                    relevant = true
                } else if length > 0 {
                    let nameBytes = buffer[(offset + headerSize)..<min(count, offset + headerSize + length)].prefix { $0 != 0 }
                    if nameBytes.elementsEqual(name.utf8) { relevant = true }
                } else {
                    relevant = true  // the directory itself (moved, deleted, overflow)
                }
                offset += headerSize + length
            }
        }
        #else
        return true
        #endif
    }
}
