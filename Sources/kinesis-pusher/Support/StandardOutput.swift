import Foundation

/// Standard output for commands that stream a lot of it: a reader that goes away (`| head`) ends the command
/// quietly, where `FileHandle.write` would crash on the broken pipe (SIGPIPE is ignored in this process).
enum StandardOutput {
    /// Thrown by ``write(_:)`` when the reader closed the pipe.
    struct Closed: Error {}

    /// Writes all of `data` to file descriptor 1.
    static func write(_ data: Data) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(1, base + offset, buffer.count - offset)
                if written >= 0 {
                    offset += written
                } else if errno == EINTR {
                    continue
                } else if errno == EPIPE {
                    throw Closed()
                } else {
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
            }
        }
    }
}
