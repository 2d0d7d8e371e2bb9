import Dispatch
import Foundation

/// The lines of a file descriptor, a chunk at a time: each element holds the complete lines of one read (of up to
/// `chunkSize` bytes, done off the cooperative thread pool), so a consumer handles many lines per suspension.
///
/// Reads only as fast as the elements are consumed: a large file never buffers more than a chunk ahead, plus the
/// start of a line longer than a chunk. Lines are split as ``LineBuffer`` says; no element is empty.
package struct LineReader: AsyncSequence {
    package typealias Element = [[UInt8]]

    /// Bytes asked for by each read unless the initializer says otherwise.
    package static let defaultChunkSize = 128 * 1024

    let fileDescriptor: Int32
    let chunkSize: Int

    package init(fileDescriptor: Int32, chunkSize: Int = LineReader.defaultChunkSize) {
        precondition(chunkSize > 0, "a chunk holds at least one byte")
        self.fileDescriptor = fileDescriptor
        self.chunkSize = chunkSize
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let fileDescriptor: Int32
        let chunkSize: Int
        var lines = LineBuffer()
        var atEnd = false
        /// Lines in the last element, to size the next one's array up front.
        var lastCount = 0
        /// Wakes a read waiting for input when the task is cancelled.
        let wakeUp = WakeUpPipe()

        package mutating func next() async throws -> [[UInt8]]? {
            while !atEnd {
                let chunk = try await Self.read(fileDescriptor, chunkSize: chunkSize, wakeUp: wakeUp)
                var batch: [[UInt8]] = []
                batch.reserveCapacity(lastCount)
                if chunk.isEmpty {
                    atEnd = true
                    lines.finish(into: &batch)
                } else {
                    lines.split(chunk, into: &batch)
                }
                if !batch.isEmpty {
                    lastCount = batch.count
                    return batch
                }
            }
            return nil
        }

        /// One `read(2)` of up to `chunkSize` bytes on a Dispatch thread; empty at the end of the input.
        ///
        /// The thread first waits in `poll(2)` for the input or for the task's cancellation (a byte on the wake-up
        /// pipe), so an idle pipe or terminal (`tail -f app.log | …`) never holds up a shutdown: cancelling the task
        /// ends the wait at once with `CancellationError`.
        static func read(_ fileDescriptor: Int32, chunkSize: Int, wakeUp: WakeUpPipe) async throws -> [UInt8] {
            try Task.checkCancellation()
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async {
                        continuation.resume(with: Result { try readWhenReady(fileDescriptor, chunkSize: chunkSize, wakeUp: wakeUp) })
                    }
                }
            } onCancel: {
                wakeUp.signal()
            }
        }

        private static func readWhenReady(_ fileDescriptor: Int32, chunkSize: Int, wakeUp: WakeUpPipe) throws -> [UInt8] {
            var failure: Int32 = 0
            var cancelled = false
            let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, initialized in
                initialized = 0
                guard wakeUp.waitForInput(fileDescriptor, failure: &failure) else {
                    cancelled = failure == 0
                    return
                }
                while true {
                    let count = Foundation.read(fileDescriptor, buffer.baseAddress, buffer.count)
                    if count >= 0 {
                        initialized = count
                        return
                    }
                    if errno != EINTR {
                        failure = errno
                        return
                    }
                }
            }
            if cancelled { throw CancellationError() }
            if failure != 0 {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(failure))])
            }
            return chunk
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fileDescriptor: fileDescriptor, chunkSize: chunkSize)
    }
}

/// The line splitting of ``LineReader``, fed chunk by chunk: a line ends at `\n`, and a `\r` right before it is
/// dropped (also when the two arrive in different chunks); after ``finish(into:)`` the bytes after the last `\n`
/// (if any) are the last line, kept as they are. A line may span any number of chunks.
package struct LineBuffer: Sendable {
    /// The bytes after the last `\n` seen: the start of a line whose end has not arrived yet.
    private var held: [UInt8] = []

    package init() {}

    /// Appends to `lines` every line that ends in `chunk` (the first one starting with the bytes held from earlier
    /// chunks), and holds the bytes after the chunk's last `\n` for the next call.
    package mutating func split(_ chunk: UnsafeBufferPointer<UInt8>, into lines: inout [[UInt8]]) {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
        var start = 0
        while start < chunk.count, let found = memchr(base + start, 0x0A, chunk.count - start) {
            let newline = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
            if held.isEmpty {
                let end = newline > start && base[newline - 1] == 0x0D ? newline - 1 : newline
                lines.append(Self.copy(base + start, count: end - start))
            } else {
                held.append(contentsOf: UnsafeBufferPointer(start: base + start, count: newline - start))
                if held.last == 0x0D { held.removeLast() }
                lines.append(held)
                held = []
            }
            start = newline + 1
        }
        if start < chunk.count {
            held.append(contentsOf: UnsafeBufferPointer(start: base + start, count: chunk.count - start))
        }
    }

    /// The same, for a chunk in an array.
    package mutating func split(_ chunk: [UInt8], into lines: inout [[UInt8]]) {
        chunk.withUnsafeBufferPointer { split($0, into: &lines) }
    }

    /// Marks the end of the input: the bytes held since the last `\n`, if any, become the last line, as they are
    /// (a `\r` at their end is kept: no `\n` follows it).
    package mutating func finish(into lines: inout [[UInt8]]) {
        guard !held.isEmpty else { return }
        lines.append(held)
        held = []
    }

    private static func copy(_ start: UnsafePointer<UInt8>, count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { buffer.baseAddress!.update(from: start, count: count) }
            initialized = count
        }
    }
}
