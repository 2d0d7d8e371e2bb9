/// The few protobuf wire-format pieces the aggregate format needs.
enum Protobuf {
    static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            buffer.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var value = value >> 7
        while value > 0 {
            size += 1
            value >>= 7
        }
        return size
    }

    /// Tag plus length plus bytes of a length-delimited field.
    static func bytesFieldSize(_ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

    static func appendVarintField(_ field: UInt64, _ value: UInt64, to buffer: inout [UInt8]) {
        appendVarint(field << 3, to: &buffer)
        appendVarint(value, to: &buffer)
    }

    static func appendBytesField(_ field: UInt64, _ bytes: some Collection<UInt8>, to buffer: inout [UInt8]) {
        appendLengthPrefix(field, bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
    }

    /// Tag and length of a length-delimited field whose bytes follow.
    static func appendLengthPrefix(_ field: UInt64, _ length: Int, to buffer: inout [UInt8]) {
        appendVarint(field << 3 | 2, to: &buffer)
        appendVarint(UInt64(length), to: &buffer)
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index >= bytes.count }

        mutating func readVarint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }

        mutating func readTag() -> (field: UInt64, wireType: UInt64)? {
            guard let tag = readVarint() else { return nil }
            return (tag >> 3, tag & 7)
        }

        mutating func readBytes() -> [UInt8]? {
            guard let length = readVarint(), length <= UInt64(bytes.count - index) else { return nil }
            defer { index += Int(length) }
            return Array(bytes[index..<index + Int(length)])
        }

        mutating func skip(wireType: UInt64) -> Bool {
            switch wireType {
            case 0: return readVarint() != nil
            case 1: index += 8
            case 2: return readBytes() != nil
            case 5: index += 4
            default: return false
            }
            return index <= bytes.count
        }
    }
}
