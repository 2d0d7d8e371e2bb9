import Foundation
import KinesisAPI
import NIOCore

/// Kinesis over CBOR (`application/x-amz-cbor-1.1`, what the AWS SDK for Java v2 and the KCL send by default),
/// served by translating at the edge: a CBOR request becomes the JSON request every operation already reads, and
/// the JSON answer becomes CBOR. The members are the same; only blobs and timestamps differ:
///
/// - a byte string (the SDK's `Data`) becomes the base64 text JSON carries, and `Data` goes back as a byte string;
/// - a timestamp arrives as tag 1 on an integer of epoch **milliseconds** (the SDK's convention, not RFC 8949's
///   seconds; a tagged float is taken as seconds) and goes back the same way.
///
/// Requests may use definite or indefinite lengths (Jackson's generator, which the SDK uses, writes indefinite maps
/// and arrays); answers use definite lengths.
enum CBORTranscoder {
    struct Failure: Error {
        var message: String
    }

    /// Members whose JSON number is epoch seconds and whose CBOR form is tag 1 on epoch milliseconds.
    static let timestampMembers: Set<String> = [
        "ApproximateArrivalTimestamp", "StreamCreationTimestamp", "ConsumerCreationTimestamp", "Timestamp",
    ]
    /// Members whose JSON string is base64 and whose CBOR form is a byte string.
    static let blobMembers: Set<String> = ["Data"]

    // MARK: - CBOR request → JSON

    static func json(fromCBOR body: ByteBuffer) throws(Failure) -> ByteBuffer {
        var output = ByteBuffer()
        if body.readableBytes == 0 { return output }
        let bytes = Array(body.readableBytesView)
        var reader = Reader(bytes: bytes)
        try reader.convert(into: &output, depth: 0)
        guard reader.index == bytes.count else { throw Failure(message: "trailing bytes after the CBOR value at byte \(reader.index)") }
        return output
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func byte() throws(Failure) -> UInt8 {
            guard index < bytes.count else { throw Failure(message: "the CBOR body ends early") }
            defer { index += 1 }
            return bytes[index]
        }

        /// The argument of a head byte: the value itself (< 24) or the next 1, 2, 4 or 8 bytes; `nil` for an
        /// indefinite length (31).
        mutating func argument(_ info: UInt8) throws(Failure) -> UInt64? {
            switch info {
            case 0..<24: return UInt64(info)
            case 24...27:
                var value: UInt64 = 0
                for _ in 0..<(1 << (info - 24)) { value = value << 8 | UInt64(try byte()) }
                return value
            case 31: return nil
            default: throw Failure(message: "reserved CBOR length \(info) at byte \(index - 1)")
            }
        }

        mutating func take(_ count: UInt64) throws(Failure) -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count - index) else { throw Failure(message: "a CBOR string runs past the end of the body") }
            defer { index += Int(count) }
            return bytes[index..<index + Int(count)]
        }

        /// A byte or text string's contents, definite or chunked (each chunk of the same major type).
        mutating func stringBytes(major: UInt8, info: UInt8) throws(Failure) -> [UInt8] {
            if let length = try argument(info) { return Array(try take(length)) }
            var result: [UInt8] = []
            while true {
                let head = try byte()
                if head == 0xFF { return result }
                guard head >> 5 == major, let length = try argument(head & 0x1F) else {
                    throw Failure(message: "a chunk of an indefinite CBOR string is not a definite string of its type")
                }
                result += try take(length)
            }
        }

        /// Whether the next byte ends an indefinite container (and consumes it).
        mutating func atBreak() throws(Failure) -> Bool {
            guard index < bytes.count else { throw Failure(message: "an indefinite CBOR container is not closed") }
            if bytes[index] == 0xFF {
                index += 1
                return true
            }
            return false
        }

        /// Whether a container of `length` items (`nil`: indefinite, ended by a break) has another after `count`.
        mutating func more(_ length: UInt64?, _ count: UInt64) throws(Failure) -> Bool {
            if let length { return count < length }
            return !(try atBreak())
        }

        mutating func convert(into output: inout ByteBuffer, depth: Int) throws(Failure) {
            guard depth < JSONScanner.maxDepth else { throw Failure(message: "CBOR nested deeper than \(JSONScanner.maxDepth) levels") }
            let head = try byte()
            let major = head >> 5
            let info = head & 0x1F
            switch major {
            case 0:
                guard let value = try argument(info) else { throw Failure(message: "an indefinite integer") }
                output.writeString(String(value))
            case 1:
                guard let value = try argument(info) else { throw Failure(message: "an indefinite integer") }
                output.writeString(value == .max ? "-18446744073709551616" : "-" + String(value + 1))
            case 2:
                output.writeStaticString("\"")
                output.writeString(Data(try stringBytes(major: 2, info: info)).base64EncodedString())
                output.writeStaticString("\"")
            case 3:
                let text = try stringBytes(major: 3, info: info)
                guard let string = String(validating: text, as: UTF8.self) else { throw Failure(message: "a CBOR text string is not UTF-8") }
                output.writeJSONString(string)
            case 4:
                output.writeStaticString("[")
                let length = try argument(info)
                var count: UInt64 = 0
                while try more(length, count) {
                    if count > 0 { output.writeStaticString(",") }
                    try convert(into: &output, depth: depth + 1)
                    count += 1
                }
                output.writeStaticString("]")
            case 5:
                output.writeStaticString("{")
                let length = try argument(info)
                var count: UInt64 = 0
                while try more(length, count) {
                    if count > 0 { output.writeStaticString(",") }
                    let keyHead = try byte()
                    guard keyHead >> 5 == 3 else { throw Failure(message: "a CBOR map key is not a text string") }
                    let key = try stringBytes(major: 3, info: keyHead & 0x1F)
                    guard let name = String(validating: key, as: UTF8.self) else { throw Failure(message: "a CBOR map key is not UTF-8") }
                    output.writeJSONString(name)
                    output.writeStaticString(":")
                    try convert(into: &output, depth: depth + 1)
                    count += 1
                }
                output.writeStaticString("}")
            case 6:
                guard let tag = try argument(info) else { throw Failure(message: "an indefinite tag") }
                if tag == 1, index < bytes.count, bytes[index] >> 5 <= 1 {
                    // The SDK's timestamp: integer milliseconds, written as JSON's epoch seconds.
                    let mark = index
                    var millis = ByteBuffer()
                    try convert(into: &millis, depth: depth + 1)
                    guard let value = Int64(String(buffer: millis)) else {
                        index = mark
                        throw Failure(message: "a timestamp out of range")
                    }
                    output.writeString(Self.seconds(millis: value))
                } else {
                    try convert(into: &output, depth: depth + 1)  // other tags (and a float timestamp, seconds) as their content
                }
            default:
                switch info {
                case 20: output.writeStaticString("false")
                case 21: output.writeStaticString("true")
                case 22, 23: output.writeStaticString("null")
                case 25:
                    let half = UInt16(try byte()) << 8 | UInt16(try byte())
                    output.writeString(Self.number(Double(Float16(bitPattern: half))))
                case 26:
                    var bits: UInt32 = 0
                    for _ in 0..<4 { bits = bits << 8 | UInt32(try byte()) }
                    output.writeString(Self.number(Double(Float(bitPattern: bits))))
                case 27:
                    var bits: UInt64 = 0
                    for _ in 0..<8 { bits = bits << 8 | UInt64(try byte()) }
                    output.writeString(Self.number(Double(bitPattern: bits)))
                default:
                    throw Failure(message: "unexpected CBOR simple value \(info) at byte \(index - 1)")
                }
            }
        }

        static func number(_ value: Double) -> String {
            guard value.isFinite else { return "null" }
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }

        /// Milliseconds as exact decimal seconds (`1700000000123` → `1700000000.123`).
        static func seconds(millis: Int64) -> String {
            let sign = millis < 0 ? "-" : ""
            let magnitude = millis.magnitude
            let fraction = String(magnitude % 1000)
            return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
        }
    }

    // MARK: - JSON answer → CBOR

    static func cbor(fromJSON body: ByteBuffer) throws(Failure) -> ByteBuffer {
        var output = ByteBuffer()
        guard body.readableBytes > 0 else { return output }
        let value: JSONValue
        do {
            value = try body.withUnsafeReadableBytes { bytes in
                var scanner = JSONScanner(bytes)
                return try scanner.readValue()
            }
        } catch {
            throw Failure(message: "the answer is not JSON")
        }
        write(value, member: nil, into: &output)
        return output
    }

    static func write(_ value: JSONValue, member: String?, into output: inout ByteBuffer) {
        switch value {
        case .object(let members):
            writeHead(major: 5, UInt64(members.count), into: &output)
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                writeText(name, into: &output)
                write(member, member: name, into: &output)
            }
        case .array(let elements):
            writeHead(major: 4, UInt64(elements.count), into: &output)
            // Array elements keep their member's meaning (a list of blobs stays blobs).
            for element in elements { write(element, member: member, into: &output) }
        case .string(let text):
            if let member, blobMembers.contains(member), let data = Data(base64Encoded: text) {
                writeHead(major: 2, UInt64(data.count), into: &output)
                output.writeBytes(data)
            } else {
                writeText(text, into: &output)
            }
        case .number(let number):
            if let member, timestampMembers.contains(member) {
                writeHead(major: 6, 1, into: &output)
                writeInteger(Int64((number * 1000).rounded()), into: &output)
            } else if number == number.rounded(), abs(number) < 9.2e18 {
                writeInteger(Int64(number), into: &output)
            } else {
                output.writeInteger(UInt8(0xFB))
                output.writeInteger(number.bitPattern)
            }
        case .bool(let flag):
            output.writeInteger(UInt8(flag ? 0xF5 : 0xF4))
        case .null:
            output.writeInteger(UInt8(0xF6))
        }
    }

    static func writeInteger(_ value: Int64, into output: inout ByteBuffer) {
        if value >= 0 {
            writeHead(major: 0, UInt64(value), into: &output)
        } else {
            writeHead(major: 1, UInt64(-(value + 1)), into: &output)
        }
    }

    static func writeText(_ text: String, into output: inout ByteBuffer) {
        writeHead(major: 3, UInt64(text.utf8.count), into: &output)
        output.writeString(text)
    }

    /// A head byte with the shortest argument encoding.
    static func writeHead(major: UInt8, _ argument: UInt64, into output: inout ByteBuffer) {
        let type = major << 5
        switch argument {
        case 0..<24: output.writeInteger(type | UInt8(argument))
        case 24...0xFF:
            output.writeInteger(type | 24)
            output.writeInteger(UInt8(argument))
        case 0x100...0xFFFF:
            output.writeInteger(type | 25)
            output.writeInteger(UInt16(argument))
        case 0x1_0000...0xFFFF_FFFF:
            output.writeInteger(type | 26)
            output.writeInteger(UInt32(argument))
        default:
            output.writeInteger(type | 27)
            output.writeInteger(argument)
        }
    }
}
