import NIOCore

/// Reads the usual PutRecords answer without `JSONDecoder`, which costs more than a microsecond per entry — about
/// as much as the rest of the producer's work for a record.
///
/// Strict on purpose: only the four entry keys and the three top-level ones, strings without escapes, a plain
/// count. Anything else (escapes, unknown or repeated keys, other number forms) returns `nil`, and the caller
/// decodes the answer the general way, so both paths always agree.
enum PutRecordsAnswer {
    static func read(_ answer: ByteBuffer) -> PutRecordsOutcomes? {
        answer.withUnsafeReadableBytes { bytes in
            var reader = Reader(bytes: bytes)
            return reader.outcomes(of: answer)
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        /// The answer's distinct shard ids, error codes and messages, and where each was first read.
        var strings: [String] = []
        var stringRanges: [Range<Int>] = []

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func outcomes(of answer: ByteBuffer) -> PutRecordsOutcomes? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var records: [PutRecordsOutcomes.Entry]?
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
            return PutRecordsOutcomes(
                answer: answer,
                entries: records,
                strings: strings,
                failedRecordCount: failedCount ?? 0,
                encryptionType: encryptionType ?? nil
            )
        }

        mutating func entries() -> [PutRecordsOutcomes.Entry]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var entries: [PutRecordsOutcomes.Entry] = []
            // An entry is at least 2 bytes and a comma: a bound for the array that one allocation serves.
            entries.reserveCapacity(min(500, (bytes.count - index) / 3))
            if take(UInt8(ascii: "]")) { return entries }
            repeat {
                guard let entry = entry() else { return nil }
                entries.append(entry)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? entries : nil
        }

        mutating func entry() -> PutRecordsOutcomes.Entry? {
            guard take(UInt8(ascii: "{")) else { return nil }
            let none = PutRecordsOutcomes.Entry.none
            var entry = PutRecordsOutcomes.Entry(sequenceStart: 0, sequenceLength: none, shard: none, errorCode: none, errorMessage: none)
            if !take(UInt8(ascii: "}")) {
                // Keys are matched as bytes and remembered as bits: no String per key, no Set per entry.
                var seen: UInt8 = 0
                repeat {
                    guard let key = entryKey(), seen & key.rawValue == 0, take(UInt8(ascii: ":")) else { return nil }
                    seen |= key.rawValue
                    skipSpace()
                    if isNull() {
                        index += 4
                        continue
                    }
                    guard case let (raw, ascii)? = rawString() else { return nil }
                    switch key {
                    case .sequenceNumber:
                        // ASCII digits, made a String only when asked for.
                        guard ascii else { return nil }
                        entry.sequenceStart = UInt32(index - 1 - raw.count)  // rawString stops after the closing quote
                        entry.sequenceLength = UInt32(raw.count)
                    case .shardID:
                        guard let string = intern(raw, ascii: ascii, endingAt: index - 1) else { return nil }
                        entry.shard = string
                    case .errorCode:
                        guard let string = intern(raw, ascii: ascii, endingAt: index - 1) else { return nil }
                        entry.errorCode = string
                    case .errorMessage:
                        guard let string = intern(raw, ascii: ascii, endingAt: index - 1) else { return nil }
                        entry.errorMessage = string
                    }
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            return entry
        }

        /// Shard ids, error codes and messages repeat across an answer's entries: each distinct one becomes one
        /// String (error texts capped as ``AnswerText`` says), found again by comparing bytes with where it was
        /// first read. Only the first few are looked through, so an answer of distinct messages stays linear.
        mutating func intern(_ raw: UnsafeRawBufferPointer, ascii: Bool, endingAt end: Int) -> UInt32? {
            for position in 0..<min(32, stringRanges.count) where stringRanges[position].count == raw.count {
                if Self.same(UnsafeRawBufferPointer(rebasing: bytes[stringRanges[position]]), raw) { return UInt32(position) }
            }
            let text: String
            if ascii {
                // ASCII is valid UTF-8 as it stands: no generic validation needed.
                text = String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
            } else {
                guard let valid = String(validating: raw, as: UTF8.self) else { return nil }
                text = valid
            }
            strings.append(raw.count > AnswerText.maxBytes ? AnswerText.capped(text) : text)
            stringRanges.append((end - raw.count)..<end)
            return UInt32(strings.count - 1)
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

        /// A string or `null`; `nil` when neither (or a string this reader leaves to the general path).
        mutating func optionalString() -> String?? {
            skipSpace()
            if isNull() {
                index += 4
                return .some(nil)
            }
            return string().map { .some($0) }
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string() -> String? {
            guard case let (raw, ascii)? = rawString() else { return nil }
            return ascii ? String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self) : String(validating: raw, as: UTF8.self)
        }

        /// The bytes between the quotes of a string without escapes or control characters, and whether they are
        /// all ASCII; `nil` for anything else.
        mutating func rawString() -> (bytes: UnsafeRawBufferPointer, ascii: Bool)? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var ascii = true
            // Eight bytes at a time while none needs a look (a sequence number is 56 digits); the word that holds
            // the closing quote, or anything else, goes byte by byte below.
            while bytes.count - index >= 8, !Self.needsLook(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
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

        /// Whether any of eight bytes is a quote, a backslash, a control character or not ASCII.
        static func needsLook(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            /// Bytes below `limit` (≤ 0x80) set their high bit; exact as to whether there is any.
            func below(_ limit: UInt64, _ value: UInt64) -> UInt64 { (value &- ones &* limit) & ~value & highs }
            let quotes = below(1, word ^ (ones &* 0x22))
            let backslashes = below(1, word ^ (ones &* 0x5C))
            return (word & highs) | below(0x20, word) | quotes | backslashes != 0
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
