import Foundation
import FuzzSupport
import KinesisLocal
import NIOCore

/// The libFuzzer test for KinesisLocal's request reading. Input: one byte (bit 0: a PutRecord body, else PutRecords),
/// then the request body.
///
/// Checks: parsing never crashes; a parsed record's data length is what its base64 decodes to; and, for bodies
/// Foundation's `JSONSerialization` accepts (valid UTF-8, no NUL; not its leniencies, a byte order mark or a comma
/// before `]` or `}`, which AWS refuses too), the scanner agrees with it: `readValue` reads the same tree, and a
/// well-formed PutRecords or PutRecord body without repeated member names parses to the same records.
func fuzzLocalRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let flags = input.first else { return 0 }
    let single = flags & 1 == 1
    let body = Array(input.dropFirst())
    let buffer = ByteBuffer(bytes: body)

    let parsed: PutRecordsRequest?
    let parseError: PutRecordsRequest.ParseError?
    do {
        parsed = try PutRecordsRequest.parse(buffer, single: single)
        parseError = nil
    } catch {
        parsed = nil
        parseError = error
    }
    for record in parsed?.records ?? [] {
        let text = String(buffer: record.base64)
        if let decoded = canonicalBase64(text) {
            check(decoded.count == record.dataLength, "data length \(record.dataLength) for \(text)")
        }
    }
    if single, let parsed { check(parsed.records.count == 1, "PutRecord body with \(parsed.records.count) records") }

    guard String(validating: body, as: UTF8.self) != nil, !body.contains(0), !body.starts(with: [0xEF, 0xBB, 0xBF]),
        !hasTrailingComma(body), let foundation = try? JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)
    else { return 0 }

    let value: JSONValue
    do {
        value = try body.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            let value = try scanner.readValue()
            scanner.skipWhitespace()
            check(scanner.isAtEnd, "readValue stopped before the end of valid JSON")
            return value
        }
    } catch {
        fatalError("readValue refused JSON that Foundation reads: \(error)")
    }
    check(same(value, foundation), "readValue read \(value), Foundation \(foundation)")

    guard let object = foundation as? [String: Any], !hasRepeatedMemberNames(body),
        let expected = expectedRecords(object, single: single)
    else { return 0 }
    guard let parsed else { fatalError("a well-formed request was refused: \(String(describing: parseError))") }
    check(parsed.records.count == expected.count, "\(parsed.records.count) records, expected \(expected.count)")
    for (record, want) in zip(parsed.records, expected) {
        check(String(buffer: record.base64) == want.data, "data \(String(buffer: record.base64)), expected \(want.data)")
        check(record.partitionKey == want.partitionKey, "key \(record.partitionKey), expected \(want.partitionKey)")
        check(record.explicitHashKey == want.explicitHashKey, "hash key \(String(describing: record.explicitHashKey))")
    }
    check(parsed.streamName == object["StreamName"] as? String, "stream name \(String(describing: parsed.streamName))")
    return 0
}

/// Whether the scanner's tree and Foundation's are the same JSON (numbers within rounding).
func same(_ value: JSONValue, _ other: Any) -> Bool {
    switch value {
    case .object(let members):
        guard let dictionary = other as? [String: Any], Set(dictionary.keys) == Set(members.keys) else { return false }
        return members.allSatisfy { key, member in same(member, dictionary[key]!) }
    case .array(let elements):
        guard let array = other as? [Any], array.count == elements.count else { return false }
        return zip(elements, array).allSatisfy { same($0, $1) }
    case .string(let text):
        return other as? String == text
    case .number(let number):
        guard let otherNumber = (other as? NSNumber)?.doubleValue else { return false }
        if number.isInfinite || otherNumber.isInfinite { return number == otherNumber }
        return abs(number - otherNumber) <= 1e-12 * max(abs(number), abs(otherNumber))
    case .bool(let flag):
        return other as? Bool == flag
    case .null:
        return other is NSNull
    }
}

/// The records a well-formed body holds, by Foundation's reading: `nil` when the body is not one (a member of the
/// wrong type, a record without data or key, data that is not base64), so the scanner may refuse it.
func expectedRecords(_ object: [String: Any], single: Bool) -> [(data: String, partitionKey: String, explicitHashKey: String?)]? {
    func member(_ object: [String: Any], _ name: String) -> String?? {
        switch object[name] {
        case nil, is NSNull: return .some(nil)
        case let text as String: return .some(text)
        default: return nil
        }
    }
    for name in ["StreamName", "StreamARN"] + (single ? ["SequenceNumberForOrdering"] : []) where member(object, name) == nil {
        return nil
    }
    func record(_ object: [String: Any]) -> (data: String, partitionKey: String, explicitHashKey: String?)? {
        guard let data = member(object, "Data") ?? nil, canonicalBase64(data) != nil,
            let partitionKey = member(object, "PartitionKey") ?? nil,
            let explicitHashKey = member(object, "ExplicitHashKey")
        else { return nil }
        return (data, partitionKey, explicitHashKey)
    }
    if single { return record(object).map { [$0] } }
    switch object["Records"] {
    case nil, is NSNull:
        return []
    case let records as [Any]:
        var result: [(data: String, partitionKey: String, explicitHashKey: String?)] = []
        for element in records {
            guard let fields = element as? [String: Any], let entry = record(fields) else { return nil }
            result.append(entry)
        }
        return result
    default:
        return nil
    }
}

/// The bytes of `text` if it is standard base64 as an encoder writes it (padded, no stray bits). Foundation's decoder
/// alone is more lenient than Kinesis: it takes some text whose length is not a multiple of 4.
func canonicalBase64(_ text: String) -> Data? {
    guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else { return nil }
    return data
}

/// Whether a `,` is followed (after white space) by `]` or `}` outside strings: JSON forbids it, Foundation accepts it.
func hasTrailingComma(_ body: [UInt8]) -> Bool {
    var inString = false
    var escaped = false
    var afterComma = false
    for byte in body {
        if inString {
            if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
            continue
        }
        switch byte {
        case 0x22: inString = true; afterComma = false
        case 0x2C: afterComma = true
        case 0x5D, 0x7D: if afterComma { return true }
        case 0x20, 0x09, 0x0A, 0x0D: break
        default: afterComma = false
        }
    }
    return false
}

/// Whether an object of `body` (valid JSON) names a member twice. Foundation keeps the last value; the scanner does
/// too, but fails on an earlier one of the wrong type, where AWS's reader may coerce it: not compared.
func hasRepeatedMemberNames(_ body: [UInt8]) -> Bool {
    var containers: [Set<String>?] = []  // per open container: the member names seen, nil for an array
    var expectingName = false
    var index = 0
    while index < body.count {
        switch body[index] {
        case 0x7B:
            containers.append([])
            expectingName = true
        case 0x5B:
            containers.append(nil)
        case 0x7D, 0x5D:
            containers.removeLast()
            expectingName = false
        case 0x2C:
            expectingName = containers.last.map { $0 != nil } ?? false
        case 0x22:
            var end = index + 1
            while body[end] != 0x22 { end += body[end] == 0x5C ? 2 : 1 }
            if expectingName, let name = try? JSONSerialization.jsonObject(with: Data(body[index...end]), options: .fragmentsAllowed) as? String,
                containers[containers.count - 1]?.insert(name).inserted == false
            {
                return true
            }
            expectingName = false
            index = end
        default:
            break
        }
        index += 1
    }
    return false
}
