import NIOCore

extension ByteBuffer {
    /// Writes `text` as a JSON string literal. Most partition keys and names need no escaping, so the bytes are
    /// copied in one go unless a quote, backslash or control character is present.
    @inlinable
    package mutating func writeJSONString(_ text: String) {
        let length = JSONEscaping.literalLength(text)
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
            JSONEscaping.write(text, literalLength: length, into: output)
            return length
        }
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

    /// Writes `text` as a JSON string literal, quotes included, at the start of `output`, which holds at least
    /// its ``literalLength(_:)`` bytes (passed in: callers size their writes with it). Most partition keys and
    /// names need no escaping and are copied in one go.
    @inlinable
    package static func write(_ text: String, literalLength: Int, into output: UnsafeMutableRawBufferPointer) {
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            output[0] = UInt8(ascii: "\"")
            output[literalLength - 1] = UInt8(ascii: "\"")
            if literalLength == bytes.count + 2 {
                UnsafeMutableRawBufferPointer(rebasing: output[1...]).copyMemory(from: UnsafeRawBufferPointer(bytes))
                return
            }
            var at = 1
            func put(_ byte: UInt8) {
                output[at] = byte
                at += 1
            }
            for byte in bytes {
                switch byte {
                case 0x22: put(0x5C); put(0x22)
                case 0x5C: put(0x5C); put(0x5C)
                case 0x0A: put(0x5C); put(UInt8(ascii: "n"))
                case 0x0D: put(0x5C); put(UInt8(ascii: "r"))
                case 0x09: put(0x5C); put(UInt8(ascii: "t"))
                case 0x08: put(0x5C); put(UInt8(ascii: "b"))
                case 0x0C: put(0x5C); put(UInt8(ascii: "f"))
                case ..<0x20:
                    for part in [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigit(byte >> 4), hexDigit(byte & 0x0F)] { put(part) }
                default: put(byte)
                }
            }
        }
        if written == nil {
            var copy = text
            copy.makeContiguousUTF8()
            write(copy, literalLength: literalLength, into: output)
        }
    }

    @inlinable
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : UInt8(ascii: "a") + value - 10
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
