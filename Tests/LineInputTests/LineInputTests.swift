import Foundation
import LineInput
import Testing

@Suite("push input: lines and NDJSON")
struct LineInputTests {
    /// Feeds `input` to a LineBuffer in chunks of the given sizes (the rest in one chunk) and collects every line.
    static func lines(_ input: String, chunks: [Int] = []) -> [String] {
        var bytes = Array(input.utf8)[...]
        var buffer = LineBuffer()
        var lines: [String] = []
        for size in chunks + [bytes.count] {
            buffer.append(Array(bytes.prefix(size)))
            bytes = bytes.dropFirst(size)
            while let line = buffer.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        }
        buffer.finish()
        while let line = buffer.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        #expect(buffer.isFinished)
        return lines
    }

    @Test("LF and CRLF end lines; empty lines are lines; no line after a final newline")
    func lineEnds() {
        #expect(Self.lines("a\nb\r\n\nc\n") == ["a", "b", "", "c"])
        #expect(Self.lines("") == [])
        #expect(Self.lines("\n") == [""])
        #expect(Self.lines("\r\n\r\n") == ["", ""])
    }

    @Test("the last line without a newline is kept as it is; a CR ends nothing on its own")
    func lastLine() {
        #expect(Self.lines("a\nlast") == ["a", "last"])
        #expect(Self.lines("a\nlast\r") == ["a", "last\r"])
        #expect(Self.lines("a\rb\r\r\n") == ["a\rb\r"], "only the one CR before the LF is dropped")
    }

    @Test("chunk boundaries do not change the lines, also between CR and LF")
    func chunkBoundaries() {
        let input = "one\r\ntwo\nthree\r\n\r\nfour"
        let whole = Self.lines(input)
        #expect(whole == ["one", "two", "three", "", "four"])
        for split in 0...input.utf8.count {
            #expect(Self.lines(input, chunks: [split]) == whole, "split at \(split)")
        }
        #expect(Self.lines(input, chunks: Array(repeating: 1, count: input.utf8.count)) == whole)
    }

    @Test("LineReader reads the lines of a file descriptor across 64 KiB chunks")
    func readerOverPipe() async throws {
        let long = String(repeating: "x", count: 100_000)
        let text = "first\r\n\(long)\nlast"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("line-input-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var lines: [String] = []
        for try await line in LineReader(fileDescriptor: descriptor) { lines.append(String(decoding: line, as: UTF8.self)) }
        #expect(lines == ["first", long, "last"])
    }

    @Test("NDJSON: the key is the field's string, or the description of another value")
    func partitionKeys() throws {
        #expect(try NDJSONLine.partitionKey(in: Array(#"{"id":"order-7","n":1}"#.utf8), field: "id") == "order-7")
        #expect(try NDJSONLine.partitionKey(in: Array(#"{"id":42}"#.utf8), field: "id") == "42")
        #expect(try NDJSONLine.partitionKey(in: Array(#"{"id":"x"}"#.utf8), field: nil) == nil)
    }

    @Test("NDJSON: lines that are not objects, and missing or null fields, are input errors")
    func ndjsonErrors() {
        for line in [#"[1,2]"#, #""text""#, "{", "", "42"] {
            #expect(throws: NDJSONLine.InputError.self, "\(line)") { try NDJSONLine.partitionKey(in: Array(line.utf8), field: nil) }
        }
        #expect { try NDJSONLine.partitionKey(in: Array(#"{"a":1}"#.utf8), field: "id") } throws: { error in
            (error as? NDJSONLine.InputError)?.description == "field 'id' is missing"
        }
        #expect { try NDJSONLine.partitionKey(in: Array(#"{"id":null}"#.utf8), field: "id") } throws: { error in
            (error as? NDJSONLine.InputError)?.description == "field 'id' is missing"
        }
        #expect { try NDJSONLine.partitionKey(in: Array("[]".utf8), field: "id") } throws: { error in
            (error as? NDJSONLine.InputError)?.description == "not a JSON object"
        }
    }
}
