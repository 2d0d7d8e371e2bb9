import NIOCore

/// A PutRecords (or PutRecord) request as the server reads it: records keep their base64 text, which is exactly
/// what GetRecords sends back, so stored data is never decoded and re-encoded.
package struct PutRecordsRequest {
    package struct Record {
        /// The record's `Data` as base64 text (escapes already resolved).
        package var base64: ByteBuffer
        /// Decoded data length in bytes.
        package var dataLength: Int
        package var partitionKey: String
        package var explicitHashKey: String?
    }

    package var streamName: String?
    package var streamARN: String?
    package var records: [Record] = []
    package var sequenceNumberForOrdering: String?

    package enum ParseError: Error {
        /// Not JSON, or not the expected shape: `SerializationException`.
        case serialization(String)
        /// Well-formed, but a member is missing or invalid: `ValidationException` / `InvalidArgumentException`.
        case missingMember(String)
        case invalidBase64(recordIndex: Int)
    }

    /// Parses a PutRecords body (`single == false`) or a PutRecord body (`single == true`, the record's members at
    /// the top level).
    package static func parse(_ body: ByteBuffer, single: Bool) throws(ParseError) -> PutRecordsRequest {
        var request = PutRecordsRequest()
        do {
            try body.withUnsafeReadableBytes { bytes in
                var scanner = JSONScanner(bytes)
                var pending = PendingRecord()
                // A record of the Records member in force that cannot be stored; thrown once the whole body is read,
                // since a later Records member replaces it (and malformed JSON further on is reported first).
                var recordError: ParseError?
                try scanner.expect(0x7B)
                if !scanner.consume(0x7D) {
                    repeat {
                        let key = try scanner.readStringRange()
                        try scanner.expect(0x3A)
                        let name = try scanner.string(key)
                        switch name {
                        case "Records" where !single:
                            request.records = []  // a repeated member replaces the earlier one, as in AWS's reader
                            recordError = nil
                            if scanner.peek() == 0x6E {  // null
                                try scanner.skipValue()
                                continue
                            }
                            try scanner.expect(0x5B)
                            if !scanner.consume(0x5D) {
                                var position = 0
                                repeat {
                                    var record = PendingRecord()
                                    try scanner.expect(0x7B)
                                    if !scanner.consume(0x7D) {
                                        repeat {
                                            let field = try scanner.readStringRange()
                                            try scanner.expect(0x3A)
                                            try record.read(field: scanner.string(field), from: &scanner)
                                        } while scanner.consume(0x2C)
                                        try scanner.expect(0x7D)
                                    }
                                    do throws(ParseError) {
                                        try request.records.append(record.finish(index: position, body: body))
                                    } catch {
                                        recordError = recordError ?? error
                                    }
                                    position += 1
                                } while scanner.consume(0x2C)
                                try scanner.expect(0x5D)
                            }
                        // Null members count as absent.
                        case "StreamName":
                            request.streamName = scanner.consumeNull() ? nil : try scanner.readString()
                        case "StreamARN":
                            request.streamARN = scanner.consumeNull() ? nil : try scanner.readString()
                        case "SequenceNumberForOrdering" where single:
                            request.sequenceNumberForOrdering = scanner.consumeNull() ? nil : try scanner.readString()
                        case "Data", "PartitionKey", "ExplicitHashKey":
                            if single {
                                try pending.read(field: name, from: &scanner)
                            } else {
                                try scanner.skipValue()
                            }
                        default:
                            try scanner.skipValue()
                        }
                    } while scanner.consume(0x2C)
                    try scanner.expect(0x7D)
                }
                scanner.skipWhitespace()
                guard scanner.isAtEnd else { throw JSONScanner.Failure(message: "trailing bytes after the JSON object") }
                if let recordError { throw recordError }
                if single { try request.records.append(pending.finish(index: 0, body: body)) }
            }
        } catch let error as ParseError {
            throw error
        } catch let error as JSONScanner.Failure {
            throw .serialization(error.message)
        } catch {
            throw .serialization("\(error)")
        }
        return request
    }

    /// A record's members as found, before validation.
    private struct PendingRecord {
        var data: (range: Range<Int>, escaped: [UInt8]?)?
        var partitionKey: String?
        var explicitHashKey: String?
        var sawNullData = false

        mutating func read(field: String, from scanner: inout JSONScanner) throws {
            if scanner.peek() == 0x6E {  // null members count as absent, also when they repeat one given before
                try scanner.skipValue()
                switch field {
                case "Data": data = nil
                case "PartitionKey": partitionKey = nil
                case "ExplicitHashKey": explicitHashKey = nil
                default: break
                }
                return
            }
            switch field {
            case "Data":
                let (range, hasEscapes) = try scanner.readStringRange()
                data = (range, hasEscapes ? try scanner.unescapeBytes(range) : nil)
            case "PartitionKey":
                partitionKey = try scanner.readString()
            case "ExplicitHashKey":
                explicitHashKey = try scanner.readString()
            default:
                try scanner.skipValue()
            }
        }

        func finish(index: Int, body: ByteBuffer) throws(ParseError) -> Record {
            guard let data else { throw ParseError.missingMember("records.\(index + 1).member.data") }
            guard let partitionKey else { throw ParseError.missingMember("records.\(index + 1).member.partitionKey") }
            let base64: ByteBuffer
            if let escaped = data.escaped {
                base64 = ByteBuffer(bytes: escaped)
            } else {
                base64 = body.getSlice(at: body.readerIndex + data.range.lowerBound, length: data.range.count)!
            }
            guard let length = Base64Text.decodedLength(base64) else { throw ParseError.invalidBase64(recordIndex: index) }
            return Record(base64: base64, dataLength: length, partitionKey: partitionKey, explicitHashKey: explicitHashKey)
        }
    }
}

/// Checks base64 text without decoding it.
enum Base64Text {
    static let valid: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8) { table[Int(byte)] = true }
        return table
    }()

    /// The decoded length of standard, padded base64 text, or `nil` when it is not valid base64.
    static func decodedLength(_ text: ByteBuffer) -> Int? {
        text.withUnsafeReadableBytes { bytes -> Int? in
            let count = bytes.count
            guard count % 4 == 0 else { return nil }
            guard count > 0 else { return 0 }
            var padding = 0
            if bytes[count - 1] == 0x3D { padding += 1 }
            if bytes[count - 2] == 0x3D { padding += 1 }
            let table = valid
            for i in 0..<(count - padding) where !table[Int(bytes[i])] { return nil }
            return count / 4 * 3 - padding
        }
    }
}
