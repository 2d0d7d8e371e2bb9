/// A forward-only scanner over JSON bytes that finds values without building a document tree.
///
/// The PutRecords body is the server's hot path: a tree of dictionaries per record would cost more than storing
/// the records. The scanner hands back byte ranges of strings; only what is needed gets decoded.
package struct JSONScanner {
    package struct Failure: Error {
        package var message: String
    }

    /// How deep objects and arrays may nest in a value; deeper input is refused instead of recursed into (a body of
    /// a million `[` would overflow the stack).
    static let maxDepth = 512

    let bytes: UnsafeRawBufferPointer
    private(set) var index = 0
    private var depth = 0

    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    package var isAtEnd: Bool { index >= bytes.count }

    package mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The next non-space byte, not consumed.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else {
            throw Failure(message: "expected '\(Character(UnicodeScalar(byte)))' at byte \(index)")
        }
        index += 1
    }

    /// Consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Reads a string; returns the range of its raw contents (between the quotes) and whether it has escapes.
    mutating func readStringRange() throws -> (range: Range<Int>, hasEscapes: Bool) {
        try expect(0x22)
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                let range = start..<index
                index += 1
                return (range, hasEscapes)
            }
            if byte == 0x5C {
                hasEscapes = true
                index += 2
                continue
            }
            if byte < 0x20 { throw Failure(message: "control character in a string at byte \(index)") }
            index += 1
        }
        throw Failure(message: "unterminated string")
    }

    mutating func readString() throws -> String {
        try string(readStringRange())
    }

    /// A string from what ``readStringRange()`` found, its escapes decoded if it has any.
    func string(_ found: (range: Range<Int>, hasEscapes: Bool)) throws -> String {
        found.hasEscapes ? try unescape(found.range) : string(found.range)
    }

    /// Consumes a `null` literal if one is next.
    mutating func consumeNull() -> Bool {
        guard peek() == 0x6E, bytes.count - index >= 4, bytes[index + 1] == 0x75, bytes[index + 2] == 0x6C, bytes[index + 3] == 0x6C
        else { return false }
        index += 4
        return true
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Decodes the escapes of a string's raw contents (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`
    /// with surrogate pairs).
    func unescapeBytes(_ range: Range<Int>) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= range.upperBound else { throw Failure(message: "short \\u escape") }
            var value: UInt32 = 0
            for k in at..<at + 4 {
                let c = bytes[k]
                let digit: UInt8
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x41...0x46: digit = c - 0x41 + 10
                case 0x61...0x66: digit = c - 0x61 + 10
                default: throw Failure(message: "bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < range.upperBound {
            let byte = bytes[i]
            guard byte == 0x5C else {
                out.append(byte)
                i += 1
                continue
            }
            guard i + 1 < range.upperBound else { throw Failure(message: "dangling escape") }
            let escaped = bytes[i + 1]
            i += 2
            switch escaped {
            case 0x22, 0x5C, 0x2F: out.append(escaped)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= range.upperBound, bytes[i] == 0x5C, bytes[i + 1] == 0x75 {
                    let low = try hex4(i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Failure(message: "invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw Failure(message: "invalid escape")
            }
        }
        return out
    }

    func unescape(_ range: Range<Int>) throws -> String {
        String(decoding: try unescapeBytes(range), as: UTF8.self)
    }

    /// Steps into an object or array; the caller steps out with `depth -= 1`.
    private mutating func enterContainer() throws {
        guard depth < Self.maxDepth else { throw Failure(message: "nesting deeper than \(Self.maxDepth) levels at byte \(index)") }
        depth += 1
    }

    /// Skips any value: string, number, object, array, `true`, `false`, `null`.
    mutating func skipValue() throws {
        guard let byte = peek() else { throw Failure(message: "unexpected end") }
        switch byte {
        case 0x22:
            _ = try readStringRange()
        case 0x7B:
            try enterContainer()
            defer { depth -= 1 }
            index += 1
            if consume(0x7D) { return }
            repeat {
                _ = try readStringRange()
                try expect(0x3A)
                try skipValue()
            } while consume(0x2C)
            try expect(0x7D)
        case 0x5B:
            try enterContainer()
            defer { depth -= 1 }
            index += 1
            if consume(0x5D) { return }
            repeat { try skipValue() } while consume(0x2C)
            try expect(0x5D)
        default:
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case 0x2C, 0x7D, 0x5D, 0x20, 0x09, 0x0A, 0x0D: break
                default:
                    index += 1
                    continue
                }
                break
            }
            guard index > start else { throw Failure(message: "unexpected byte at \(start)") }
        }
    }

    /// Reads any value into a small tree; for control-plane requests, where speed does not matter.
    package mutating func readValue() throws -> JSONValue {
        guard let byte = peek() else { throw Failure(message: "unexpected end") }
        switch byte {
        case 0x22:
            return .string(try readString())
        case 0x7B:
            try enterContainer()
            defer { depth -= 1 }
            index += 1
            var members: [String: JSONValue] = [:]
            if consume(0x7D) { return .object(members) }
            repeat {
                let key = try readString()
                try expect(0x3A)
                members[key] = try readValue()
            } while consume(0x2C)
            try expect(0x7D)
            return .object(members)
        case 0x5B:
            try enterContainer()
            defer { depth -= 1 }
            index += 1
            var elements: [JSONValue] = []
            if consume(0x5D) { return .array(elements) }
            repeat { elements.append(try readValue()) } while consume(0x2C)
            try expect(0x5D)
            return .array(elements)
        default:
            let start = index
            try skipValue()
            let text = string(start..<index)
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                guard let number = Double(text) else { throw Failure(message: "invalid literal '\(text)'") }
                return .number(number)
            }
        }
    }
}

/// A parsed JSON value.
package enum JSONValue {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
}
