import NIOCore

/// Writes one flat-ish JSON object into a `ByteBuffer`, field by field, without Foundation's encoder.
/// Nil values are omitted, as the AWS JSON protocol expects for unset members.
package struct JSONObjectWriter {
    package private(set) var buffer: ByteBuffer
    private var isFirst = true

    package init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
        self.buffer.writeInteger(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: StaticString) {
        if !isFirst { buffer.writeInteger(UInt8(ascii: ",")) }
        isFirst = false
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    /// A field whose name is only known at run time (tag keys).
    package mutating func dynamicField(_ name: String, _ value: String) {
        if !isFirst { buffer.writeInteger(UInt8(ascii: ",")) }
        isFirst = false
        buffer.writeJSONString(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeJSONString(value)
    }

    package mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        buffer.writeJSONString(value)
    }

    package mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        buffer.writeString(String(value))
    }

    package mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        buffer.writeString(value ? "true" : "false")
    }

    /// A timestamp as epoch seconds (a JSON number), the AWS JSON protocol's form.
    package mutating func field(_ name: StaticString, epochSeconds value: Double?) {
        guard let value else { return }
        key(name)
        buffer.writeString(value == value.rounded() ? String(Int64(value)) : String(value))
    }

    package mutating func field(_ name: StaticString, object: (inout JSONObjectWriter) -> Void) {
        key(name)
        var nested = JSONObjectWriter(buffer: buffer)
        buffer = ByteBuffer()
        object(&nested)
        buffer = nested.finish()
    }

    package mutating func stream(_ stream: StreamIdentifier) {
        field("StreamName", stream.name)
        field("StreamARN", stream.arn)
    }

    package consuming func finish() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    package mutating func field(_ name: StaticString, double value: Double?) {
        guard let value else { return }
        key(name)
        buffer.writeString(String(value))
    }

    /// An array of objects, one per element.
    package mutating func field<Element>(_ name: StaticString, objects: some Sequence<Element>, _ write: (Element, inout JSONObjectWriter) -> Void) {
        key(name)
        buffer.writeInteger(UInt8(ascii: "["))
        var first = true
        for element in objects {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            var nested = JSONObjectWriter(buffer: buffer)
            buffer = ByteBuffer()
            write(element, &nested)
            buffer = nested.finish()
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    /// An array of strings.
    package mutating func field(_ name: StaticString, strings: some Sequence<String>) {
        key(name)
        buffer.writeInteger(UInt8(ascii: "["))
        var first = true
        for string in strings {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            buffer.writeJSONString(string)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }
}
