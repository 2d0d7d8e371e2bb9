import KinesisAPI
import NIOCore

/// One message of AWS's event-stream encoding (`application/vnd.amazon.eventstream`), as SubscribeToShard answers:
/// total length and headers length (big-endian 32-bit), a CRC-32 of those eight bytes, the headers (each a 1-byte
/// name length, the name, type 7 for a string, a 2-byte value length, the value), the payload, and a CRC-32 of all
/// before it.
enum EventStreamMessage {
    /// An event: `:message-type` `event`, `:event-type` `type`, a JSON payload.
    static func event(_ type: String, payload: ByteBuffer) -> ByteBuffer {
        encode(headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")], payload: payload)
    }

    /// An exception that ends the stream: `:message-type` `exception`, `:exception-type` the error's type.
    static func exception(_ error: AWSErrorReply) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.writeStaticString("{\"message\":")
        payload.writeJSONString(error.message)
        payload.writeStaticString("}")
        return encode(headers: [(":exception-type", error.type), (":content-type", "application/json"), (":message-type", "exception")], payload: payload)
    }

    static func encode(headers: [(name: String, value: String)], payload: ByteBuffer) -> ByteBuffer {
        var encodedHeaders = ByteBuffer()
        for (name, value) in headers {
            encodedHeaders.writeInteger(UInt8(name.utf8.count))
            encodedHeaders.writeString(name)
            encodedHeaders.writeInteger(UInt8(7))
            encodedHeaders.writeInteger(UInt16(value.utf8.count))
            encodedHeaders.writeString(value)
        }
        let total = 12 + encodedHeaders.readableBytes + payload.readableBytes + 4
        var message = ByteBuffer()
        message.reserveCapacity(total)
        message.writeInteger(UInt32(total))
        message.writeInteger(UInt32(encodedHeaders.readableBytes))
        message.writeInteger(CRC32.checksum(message.readableBytesView))
        message.writeImmutableBuffer(encodedHeaders)
        message.writeImmutableBuffer(payload)
        message.writeInteger(CRC32.checksum(message.readableBytesView))
        return message
    }
}
