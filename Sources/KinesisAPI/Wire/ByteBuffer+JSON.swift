import NIOCore

extension ByteBuffer {
    /// Writes `text` as a JSON string literal. Most partition keys and names need no escaping, so the bytes are
    /// copied in one go unless a quote, backslash or control character is present.
    @inlinable
    package mutating func writeJSONString(_ text: String) {
        writeInteger(UInt8(ascii: "\""))
        if JSONEscaping.literalLength(text) == text.utf8.count + 2 {
            writeString(text)
        } else {
            for byte in text.utf8 {
                switch byte {
                case 0x22: writeStaticString("\\\"")
                case 0x5C: writeStaticString("\\\\")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                case 0x08: writeStaticString("\\b")
                case 0x0C: writeStaticString("\\f")
                case ..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    writeStaticString("\\u00")
                    writeInteger(hex[Int(byte >> 4)])
                    writeInteger(hex[Int(byte & 0x0F)])
                default:
                    writeInteger(byte)
                }
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Writes `bytes` as standard base64 with padding, straight into the buffer's storage.
    @inlinable
    package mutating func writeBase64(_ bytes: [UInt8]) {
        let length = (bytes.count + 2) / 3 * 4
        guard length > 0 else { return }
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
            bytes.withUnsafeBufferPointer { input in
                Base64Encoding.encode(input, into: output)
            }
            return length
        }
    }
}

/// How long strings get as JSON literals.
@usableFromInline
package enum JSONEscaping {
    /// The length of `text` as a JSON string literal, quotes included: one pass over contiguous UTF-8.
    @inlinable
    package static func literalLength(_ text: String) -> Int {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            var length = bytes.count + 2
            for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                switch byte {
                case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: length += 1
                default: length += 5
                }
            }
            return length
        } ?? slowLiteralLength(text)
    }

    @usableFromInline
    static func slowLiteralLength(_ text: String) -> Int {
        var copy = text
        copy.makeContiguousUTF8()
        return literalLength(copy)
    }
}

@usableFromInline
package enum Base64Encoding {
    @usableFromInline
    package static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes `input` into the start of `output`, which must hold `(count + 2) / 3 * 4` bytes.
    @inlinable
    package static func encode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableRawBufferPointer) {
        alphabet.withUnsafeBufferPointer { table in
            var i = 0
            var o = 0
            let whole = input.count - input.count % 3
            while i < whole {
                let value = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                output[o] = table[Int(value >> 18)]
                output[o + 1] = table[Int((value >> 12) & 0x3F)]
                output[o + 2] = table[Int((value >> 6) & 0x3F)]
                output[o + 3] = table[Int(value & 0x3F)]
                i += 3
                o += 4
            }
            let remaining = input.count - whole
            if remaining == 1 {
                let value = UInt32(input[i]) << 16
                output[o] = table[Int(value >> 18)]
                output[o + 1] = table[Int((value >> 12) & 0x3F)]
                output[o + 2] = UInt8(ascii: "=")
                output[o + 3] = UInt8(ascii: "=")
            } else if remaining == 2 {
                let value = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                output[o] = table[Int(value >> 18)]
                output[o + 1] = table[Int((value >> 12) & 0x3F)]
                output[o + 2] = table[Int((value >> 6) & 0x3F)]
                output[o + 3] = UInt8(ascii: "=")
            }
        }
    }
}
