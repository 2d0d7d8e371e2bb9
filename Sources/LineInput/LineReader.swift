import Dispatch
import Foundation

/// Lines from a file descriptor, read in 64 KiB chunks off the cooperative thread pool, only as fast as they are
/// consumed: reading a large file never buffers more than a chunk ahead.
struct LineReader: AsyncSequence {
    typealias Element = [UInt8]

    let fileDescriptor: Int32

    struct AsyncIterator: AsyncIteratorProtocol {
        let fileDescriptor: Int32
        var buffer: [UInt8] = []
        var position = 0
        var atEnd = false

        mutating func next() async throws -> [UInt8]? {
            while true {
                if let newline = buffer[position...].firstIndex(of: 0x0A) {
                    var line = Array(buffer[position..<newline])
                    position = newline + 1
                    if line.last == 0x0D { line.removeLast() }
                    return line
                }
                if atEnd {
                    guard position < buffer.count else { return nil }
                    let line = Array(buffer[position...])
                    position = buffer.count
                    return line
                }
                buffer.removeFirst(position)
                position = 0
                let chunk = try await Self.read(fileDescriptor)
                if chunk.isEmpty { atEnd = true } else { buffer += chunk }
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

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fileDescriptor: fileDescriptor)
    }
}
