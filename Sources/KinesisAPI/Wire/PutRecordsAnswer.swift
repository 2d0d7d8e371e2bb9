import NIOCore

/// Reads the usual PutRecords answer without `JSONDecoder`, which costs more than a microsecond per entry — about
/// as much as the rest of the producer's work for a record.
///
/// Strict on purpose: only the four entry keys and the three top-level ones, strings without escapes, a plain
/// count. Anything else (escapes, unknown or repeated keys, other number forms) returns `nil`, and the caller
/// decodes the answer the general way, so both paths always agree.
enum PutRecordsAnswer {
    static func read(_ answer: ByteBuffer) -> PutRecordsResult? {
        answer.withUnsafeReadableBytes { bytes in
            var reader = Reader(answer: answer, bytes: bytes)
            return reader.result()
        }
    }

    struct Reader {
        /// The answer `bytes` point into, for slices of it.
        let answer: ByteBuffer
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func result() -> PutRecordsResult? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var records: [PutRecordsResult.Entry]?
            var failedCount: Int?
            var encryptionType: String??
            if !take(UInt8(ascii: "}")) {
                repeat {
                    guard let key = string() else { return nil }
                    guard take(UInt8(ascii: ":")) else { return nil }
                    switch key {
                    case "Records" where records == nil:
                        guard let entries = entries() else { return nil }
                        records = entries
                    case "FailedRecordCount" where failedCount == nil:
                        guard let count = count() else { return nil }
                        failedCount = count
                    case "EncryptionType" where encryptionType == nil:
                        guard let value = optionalString() else { return nil }
                        encryptionType = .some(value)
                    default:
                        return nil
                    }
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            skipSpace()
            guard index == bytes.count, let records else { return nil }
            return PutRecordsResult(records: records, failedRecordCount: failedCount ?? 0, encryptionType: encryptionType ?? nil)
        }

        mutating func entries() -> [PutRecordsResult.Entry]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var entries: [PutRecordsResult.Entry] = []
            if take(UInt8(ascii: "]")) { return entries }
            repeat {
                guard let entry = entry() else { return nil }
                entries.append(entry)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? entries : nil
        }

        mutating func entry() -> PutRecordsResult.Entry? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var sequenceNumber: ByteBuffer?
            var shardID: String?
            var errorCode: String?
            var errorMessage: String?
            if !take(UInt8(ascii: "}")) {
                // Keys are matched as bytes and remembered as bits: no String per key, no Set per entry.
                var seen: UInt8 = 0
                repeat {
                    guard let key = entryKey(), seen & key.rawValue == 0, take(UInt8(ascii: ":")) else { return nil }
                    seen |= key.rawValue
                    if key == .sequenceNumber {
                        // Kept as the answer's bytes (ASCII digits), made a String only when asked for.
                        guard let value = optionalSlice() else { return nil }
                        sequenceNumber = value
                        continue
                    }
                    guard let value = optionalString(interning: key == .shardID || key == .errorCode) else { return nil }
                    switch key {
                    case .shardID: shardID = value
                    case .errorCode: errorCode = value
                    case .errorMessage: errorMessage = value
                    case .sequenceNumber: break
                    }
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            return PutRecordsResult.Entry(sequenceNumberBytes: sequenceNumber, shardID: shardID, errorCode: errorCode, errorMessage: errorMessage)
        }

        /// An ASCII string as a slice of the answer, or `null` (`.some(nil)`); `nil` for anything else.
        mutating func optionalSlice() -> ByteBuffer?? {
            skipSpace()
            if isNull() {
                index += 4
                return .some(nil)
            }
            guard case let (raw, true)? = rawString() else { return nil }
            let start = index - 1 - raw.count  // rawString stops after the closing quote
            return answer.getSlice(at: answer.readerIndex + start, length: raw.count).map { .some($0) }
        }

        /// Whether `null` comes next.
        func isNull() -> Bool {
            bytes.count - index >= 4 && bytes[index] == UInt8(ascii: "n") && bytes[index + 1] == UInt8(ascii: "u")
                && bytes[index + 2] == UInt8(ascii: "l") && bytes[index + 3] == UInt8(ascii: "l")
        }

        enum EntryKey: UInt8 {
            case sequenceNumber = 1, shardID = 2, errorCode = 4, errorMessage = 8
        }

        /// One of the four entry keys, exactly as written (no escapes); `nil` for anything else.
        mutating func entryKey() -> EntryKey? {
            guard let key = rawString()?.bytes else { return nil }
            // The four keys differ in length: the length picks the candidate, the bytes confirm it.
            let candidate: (StaticString, EntryKey)
            switch key.count {
            case 14: candidate = ("SequenceNumber", .sequenceNumber)
            case 7: candidate = ("ShardId", .shardID)
            case 9: candidate = ("ErrorCode", .errorCode)
            case 12: candidate = ("ErrorMessage", .errorMessage)
            default: return nil
            }
            let expected = UnsafeRawBufferPointer(start: candidate.0.utf8Start, count: candidate.0.utf8CodeUnitCount)
            return Self.same(key, expected) ? candidate.1 : nil
        }

        /// Byte equality without the generic `elementsEqual` (a per-byte iterator, measurably slow here).
        static func same(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
            guard left.count == right.count else { return false }
            for index in 0..<left.count where left[index] != right[index] { return false }
            return true
        }

        /// Shard ids and error codes repeat across an answer's entries: the first of each becomes a String, the
        /// others share it.
        var interned: [String] = []

        /// A string or `null`; `nil` when neither (or a string this reader leaves to the general path).
        mutating func optionalString(interning: Bool = false) -> String?? {
            skipSpace()
            if isNull() {
                index += 4
                return .some(nil)
            }
            return string(interning: interning).map { .some($0) }
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string(interning: Bool = false) -> String? {
            guard case let (raw, ascii)? = rawString() else { return nil }
            guard ascii else { return String(validating: raw, as: UTF8.self) }
            if interning {
                for known in interned where known.utf8.count == raw.count {
                    if known.utf8.withContiguousStorageIfAvailable({ Self.same(UnsafeRawBufferPointer($0), raw) }) == true {
                        return known
                    }
                }
            }
            // ASCII is valid UTF-8 as it stands: no generic validation needed.
            let text = String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
            if interning, interned.count < 16 { interned.append(text) }
            return text
        }

        /// The bytes between the quotes of a string without escapes or control characters, and whether they are
        /// all ASCII; `nil` for anything else.
        mutating func rawString() -> (bytes: UnsafeRawBufferPointer, ascii: Bool)? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var ascii = true
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return (raw, ascii)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                ascii = ascii && byte < 0x80
                index += 1
            }
            return nil
        }

        /// Digits only, no sign, fraction or exponent, at most 9 of them.
        mutating func count() -> Int? {
            skipSpace()
            let start = index
            var value = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), index - start < 9 {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < bytes.count else { return nil }
            // A leading zero, or more digits / number characters than read: leave it to the general path.
            if bytes[start] == UInt8(ascii: "0") && index - start > 1 { return nil }
            let next = bytes[index]
            if (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || next == UInt8(ascii: ".") || next == UInt8(ascii: "e")
                || next == UInt8(ascii: "E")
            {
                return nil
            }
            return value
        }

        /// Skips whitespace, then takes `byte` if it is next.
        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
                default: return
                }
            }
        }
    }
}
