import Backoff
import Foundation
import KinesisAPI
import LineInput
import Testing
import TestSupport

@Suite("push input: lines and NDJSON")
struct LineInputTests {
    /// Feeds `input` to a LineBuffer in chunks of the given sizes (the rest in one chunk) and collects every line.
    static func lines(_ input: String, chunks: [Int] = []) -> [String] {
        lines(Array(input.utf8), chunks: chunks).map { String(decoding: $0, as: UTF8.self) }
    }

    static func lines(_ input: [UInt8], chunks: [Int]) -> [[UInt8]] {
        var bytes = input[...]
        var buffer = LineBuffer()
        var lines: [[UInt8]] = []
        for size in chunks + [bytes.count] {
            buffer.split(Array(bytes.prefix(size)), into: &lines)
            bytes = bytes.dropFirst(size)
        }
        buffer.finish(into: &lines)
        var again: [[UInt8]] = []
        buffer.finish(into: &again)
        #expect(again.isEmpty, "finish hands the last line out once")
        return lines
    }

    /// The lines of `text` by the rule, worked out without `LineBuffer`: split at every `\n`, drop one `\r` before
    /// each, keep what follows the last `\n` as it is unless it is empty.
    static func referenceLines(_ text: [UInt8]) -> [[UInt8]] {
        var pieces = text.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        let last = pieces.removeLast()
        var lines = pieces.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
        if !last.isEmpty { lines.append(last) }
        return lines
    }

    /// A text of `count` lines with CRLF and LF ends, empty lines, CRs inside lines, and lines from 0 bytes to
    /// several times `long`; without a final newline when `unterminated`.
    static func mixedText(count: Int, long: Int, unterminated: Bool, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var text: [UInt8] = []
        for index in 0..<count {
            let length = switch random.next() % 8 {
            case 0: 0
            case 1: long + Int(random.next() % UInt64(3 * long))
            default: Int(random.next() % 120)
            }
            for position in 0..<length {
                text.append(position % 37 == 36 ? 0x0D : UInt8(0x61 + (index + position) % 26))
            }
            text += random.next() % 2 == 0 ? [0x0D, 0x0A] : [0x0A]
        }
        if unterminated { text += Array("tail without newline".utf8) }
        return text
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

    @Test("chunked splitting matches the rule over random chunk sizes: lines across chunks, CRLF split between chunks, lines longer than a chunk")
    func randomChunks() {
        for seed in UInt64(1)...20 {
            let text = Self.mixedText(count: 300, long: 70, unterminated: seed % 2 == 0, seed: seed)
            let expected = Self.referenceLines(text)
            var random = SplitMix64(seed: seed &* 31)
            var chunks: [Int] = []
            var total = 0
            while total < text.count {
                // Mostly small chunks (every boundary lands somewhere new), sometimes one larger than any line.
                let size = random.next() % 5 == 0 ? 1 + Int(random.next() % 600) : 1 + Int(random.next() % 9)
                chunks.append(size)
                total += size
            }
            #expect(Self.lines(text, chunks: chunks) == expected, "seed \(seed)")
        }
    }

    @Test("a CR at a chunk's end and its LF at the next one's start end one line; a CR with no LF after it stays")
    func crAtChunkEnd() {
        #expect(Self.lines("ab\r\ncd\r\n", chunks: [3]) == ["ab", "cd"])
        #expect(Self.lines("ab\r\ncd\r\n", chunks: [3, 1, 3]) == ["ab", "cd"])
        #expect(Self.lines("\r\n", chunks: [1]) == [""])
        #expect(Self.lines("ab\r", chunks: [3]) == ["ab\r"])
        #expect(Self.lines("ab\rc\n", chunks: [3]) == ["ab\rc"])
    }

    @Test("LineReader on a file: the lines of every chunk size, in order, none lost, no empty element", arguments: [1, 7, 64, 4096, LineReader.defaultChunkSize])
    func readerOverFile(chunkSize: Int) async throws {
        let long = [UInt8](repeating: 0x78, count: 300_000)  // longer than every chunk size here
        var text = Array("first\r\n".utf8) + long + [0x0A]
        text += Self.mixedText(count: chunkSize < 64 ? 200 : 3000, long: 500, unterminated: true, seed: UInt64(chunkSize))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("line-input-\(UUID().uuidString)").path
        try Data(text).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var lines: [[UInt8]] = []
        var elements = 0
        for try await batch in LineReader(fileDescriptor: descriptor, chunkSize: chunkSize) {
            #expect(!batch.isEmpty)
            elements += 1
            lines += batch
        }
        let expected = Self.referenceLines(text)
        #expect(lines.count == expected.count)
        #expect(lines == expected)
        #expect(lines[1] == long)
        if chunkSize == LineReader.defaultChunkSize {
            #expect(elements < expected.count / 100, "many lines per element: \(elements) elements for \(expected.count) lines")
        }
    }

    @Test("LineReader on a pipe written in small pieces: the same lines, the last one without a newline")
    func readerOverPipe() async throws {
        let text = Self.mixedText(count: 2000, long: 200, unterminated: true, seed: 99)
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        let writer = Thread {
            var written = 0
            while written < text.count {
                let end = min(text.count, written + 1 + written % 1000)
                let count = text[written..<end].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno != EINTR { break }
                written += max(count, 0)
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        var lines: [[UInt8]] = []
        for try await batch in LineReader(fileDescriptor: readEnd) { lines += batch }
        #expect(lines == Self.referenceLines(text))
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

    @Test("random keys: 13 characters of 0-9 and a-v; a seed repeats its keys; no two alike in 200,000")
    func randomKeyFormat() {
        var keys = RandomPartitionKeys(seed: 42)
        var again = RandomPartitionKeys(seed: 42)
        var seen = Set<String>()
        let alphabet = Set("0123456789abcdefghijklmnopqrstuv".utf8)
        var malformed: [String] = []
        var repeated = 0
        for _ in 0..<200_000 {
            let key = keys.next()
            if key != again.next() { repeated += 1 }
            if key.utf8.count != RandomPartitionKeys.length || !key.utf8.allSatisfy(alphabet.contains) { malformed.append(key) }
            seen.insert(key)
        }
        #expect(malformed.isEmpty)
        #expect(repeated == 0, "the same seed gives the same keys")
        #expect(seen.count == 200_000)
        #expect(RandomPartitionKeys().seed != RandomPartitionKeys().seed, "each generator seeded from the system")
        // The first character carries the top 4 bits of the draw, the other twelve 5 bits each: 64 bits in all.
        var digits = RandomPartitionKeys(seed: 7)
        let firsts = Set((0..<2000).map { _ in digits.next().utf8.first! })
        #expect(firsts == Set("0123456789abcdef".utf8))
    }

    @Test("random keys spread evenly over the MD5 hash ranges of 4 shards (chi-square over 100,000 keys, per seed)", arguments: [1, 2026, 0xDEAD_BEEF] as [UInt64])
    func randomKeySpread(seed: UInt64) {
        var keys = RandomPartitionKeys(seed: seed)
        let ranges = evenSplit(4)
        var counts = [Int](repeating: 0, count: ranges.count)
        let total = 100_000
        for _ in 0..<total {
            guard let shard = route(HashKey(partitionKey: keys.next()), in: ranges) else { continue }
            counts[shard] += 1
        }
        let expected = Double(total) / Double(ranges.count)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 16.27 is the 0.999 quantile of chi-square with 3 degrees of freedom.
        #expect(chiSquare < 16.27, "counts per shard \(counts)")
        #expect(counts.min()! > Int(expected * 0.97) && counts.max()! < Int(expected * 1.03), "counts per shard \(counts)")
    }
}

