import Dispatch
import Foundation

/// Lines from a file descriptor, read in 64 KiB chunks off the cooperative thread pool, only as fast as they are
/// consumed: reading a large file never buffers more than a chunk ahead.
package struct LineReader: AsyncSequence {
    package typealias Element = [UInt8]

    let fileDescriptor: Int32

    package init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let fileDescriptor: Int32
        var lines = LineBuffer()

        package mutating func next() async throws -> [UInt8]? {
            while true {
                if let line = lines.nextLine() { return line }
                if lines.isFinished { return nil }
                let chunk = try await Self.read(fileDescriptor)
                if chunk.isEmpty { lines.finish() } else { lines.append(chunk) }
            }
        }

        static func read(_ fileDescriptor: Int32) async throws -> [UInt8] {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    var chunk = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = chunk.withUnsafeMutableBytes { Foundation.read(fileDescriptor, $0.baseAddress, $0.count) }
                        if count >= 0 {
                            continuation.resume(returning: Array(chunk.prefix(count)))
                            return
                        }
                        if errno != EINTR {
                            continuation.resume(throwing: CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))]))
                            return
                        }
                    }
                }
            }
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fileDescriptor: fileDescriptor)
    }
}

/// The line splitting of ``LineReader``, fed chunk by chunk: a line ends at `\n`, and a `\r` right before it is
/// dropped; after ``finish()`` the bytes after the last `\n` (if any) are the last line, kept as they are.
package struct LineBuffer: Sendable {
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false

    package init() {}

    /// Whether the input has ended and every line has been handed out.
    package var isFinished: Bool { atEnd && position >= buffer.count }

    /// Adds the next chunk of input.
    package mutating func append(_ chunk: [UInt8]) {
        buffer.removeFirst(position)
        position = 0
        buffer += chunk
    }

    /// Marks the end of the input.
    package mutating func finish() {
        atEnd = true
    }

    /// The next complete line, or `nil` when more input (or ``finish()``) is needed.
    package mutating func nextLine() -> [UInt8]? {
        if let newline = buffer[position...].firstIndex(of: 0x0A) {
            var line = Array(buffer[position..<newline])
            position = newline + 1
            if line.last == 0x0D { line.removeLast() }
            return line
        }
        guard atEnd, position < buffer.count else { return nil }
        let line = Array(buffer[position...])
        position = buffer.count
        return line
    }
}
