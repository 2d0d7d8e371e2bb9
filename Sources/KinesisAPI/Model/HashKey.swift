/// A position on the Kinesis hash ring, `0 … 2^128 − 1`.
///
/// On the wire hash keys are decimal strings; they never fit an `Int64`, so they are kept as `UInt128`.
public struct HashKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The 128-bit value.
    public var value: UInt128

    /// The lowest hash key.
    public static let min = HashKey(UInt128.min)
    /// The highest hash key, `340282366920938463463374607431768211455`.
    public static let max = HashKey(UInt128.max)

    /// Wraps a 128-bit value.
    public init(_ value: UInt128) {
        self.value = value
    }

    /// Parses the decimal form (`0` or `[1-9][0-9]{0,38}`); `nil` if it is not a hash key.
    public init?(decimal text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            text.utf8.count == 1 || text.utf8.first != 0x30,
            let value = UInt128(text, radix: 10)
        else { return nil }
        self.value = value
    }

    /// The hash Kinesis routes a partition key by: MD5 of its UTF-8 bytes, read as a big-endian 128-bit integer.
    public init(partitionKey: String) {
        var key = partitionKey
        self.value = key.withUTF8 { PartitionKeyMD5.hash(UnsafeRawBufferPointer($0)) }
    }

    /// The decimal form, as sent on the wire.
    public var description: String { String(value) }

    public static func < (lhs: HashKey, rhs: HashKey) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let key = HashKey(decimal: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a hash key (0 … 2^128-1)")
            )
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
