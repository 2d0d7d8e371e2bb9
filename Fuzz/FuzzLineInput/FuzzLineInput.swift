import Dispatch
import Foundation
import FuzzSupport
import LineInput
import Synchronization

/// The libFuzzer test for the `push` input. Input: one byte that seeds the chunk sizes, then the text.
///
/// Checks: `LineReader` on a pipe and `LineBuffer` fed in chunks of 1 to 16 bytes give the same lines as splitting
/// the whole text at `\n` (dropping one `\r` before each `\n`, keeping an unterminated last line as it is); and
/// for every line `NDJSONLine` refuses it as a whole or for every field alike, and a string key it takes survives
/// a JSON round trip.
func fuzzLineInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let seed = input.first else { return 0 }
    let text = Array(input.dropFirst())
    let expected = referenceLines(text)

    var buffer = LineBuffer()
    var lines: [[UInt8]] = []
    var offset = 0
    var state = UInt32(seed) | 0x100
    while offset < text.count {
        state = state &* 1_103_515_245 &+ 12_345
        let end = min(text.count, offset + 1 + Int(state >> 16) % 16)
        buffer.split(Array(text[offset..<end]), into: &lines)
        offset = end
    }
    buffer.finish(into: &lines)
    var left: [[UInt8]] = []
    buffer.finish(into: &left)
    check(left.isEmpty, "lines left after the end")
    check(lines == expected, "chunked lines \(lines) differ from \(expected)")
    let piped = readThroughPipe(text)
    check(piped == expected, "LineReader read \(piped), expected \(expected)")

    for line in expected { checkNDJSON(line) }
    return 0
}

/// The lines of `text` by the rule, worked out independently of `LineBuffer`'s scan.
func referenceLines(_ text: [UInt8]) -> [[UInt8]] {
    var pieces = text.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    let last = pieces.removeLast()  // after the last newline: a line only if not empty, kept as it is
    var lines = pieces.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
    if !last.isEmpty { lines.append(last) }
    return lines
}

/// Reads `text` with `LineReader` through a pipe, as `push` reads standard input.
func readThroughPipe(_ text: [UInt8]) -> [[UInt8]] {
    var descriptors: [Int32] = [0, 0]
    check(pipe(&descriptors) == 0, "pipe: \(errno)")
    let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
    let writer = DispatchQueue(label: "fuzz.pipe-writer")
    writer.async {
        var written = 0
        while written < text.count {
            let count = text[written...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            check(count > 0 || errno == EINTR, "write: \(errno)")
            written += max(count, 0)
        }
        close(writeEnd)
    }
    let result = Result<[[UInt8]], any Error>.blocking {
        var lines: [[UInt8]] = []
        for try await batch in LineReader(fileDescriptor: readEnd, chunkSize: 1 + text.count % 64) { lines += batch }
        return lines
    }
    writer.sync {}
    close(readEnd)
    do {
        return try result.get()
    } catch {
        fatalError("LineReader failed: \(error)")
    }
}

extension Result where Failure == any Error, Success: Sendable {
    /// Runs `body` in a task and waits for it on this (non-cooperative) thread.
    static func blocking(_ body: @escaping @Sendable () async throws -> Success) -> Self {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Success>()
        Task {
            let result: Self
            do { result = .success(try await body()) } catch { result = .failure(error) }
            box.result.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return box.result.withLock { $0! }
    }
}

/// Hands a result from the task to the waiting thread.
final class ResultBox<Success: Sendable>: Sendable {
    let result = Mutex<Result<Success, any Error>?>(nil)
}

/// A line is refused as "not a JSON object" for every field or for none; a key that is a string is the field's
/// value, so it comes back through JSON unchanged.
func checkNDJSON(_ line: [UInt8]) {
    let isObject: Bool
    do {
        _ = try NDJSONLine.partitionKey(in: line, field: nil)
        isObject = true
    } catch {
        check(error.description == "not a JSON object", "unexpected error \(error)")
        isObject = false
    }
    do {
        guard let key = try NDJSONLine.partitionKey(in: line, field: "id") else {
            fatalError("a field was asked for, no key came back")
        }
        check(isObject, "a key from a line that is not an object")
        let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        if object?["id"] is String {
            let again = try NDJSONLine.partitionKey(in: Array(try JSONSerialization.data(withJSONObject: ["id": key])), field: "id")
            check(again == key, "key \(key.debugDescription) came back as \(String(describing: again))")
        }
    } catch let error as NDJSONLine.InputError {
        check(isObject == (error.description != "not a JSON object"), "line refused inconsistently: \(error)")
    } catch {
        fatalError("cannot write a key as JSON: \(error)")
    }
}
