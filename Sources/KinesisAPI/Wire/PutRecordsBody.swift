import NIOCore

/// The PutRecords request body, written straight into a buffer: the hot path of every producer.
///
/// Field order and spacing match what botocore sends compacted:
/// `{"Records":[{"Data":"…","PartitionKey":"…","ExplicitHashKey":"…"}],"StreamName":"…","StreamARN":"…"}`.
public enum PutRecordsBody {
    /// The exact body size, so the buffer is allocated once.
    @inlinable
    public static func encodedSize(of entries: some Collection<some PutRecordsEntryFields>, stream: StreamIdentifier) -> Int {
        var size = 14 + max(0, entries.count - 1)  // {"Records":[ … ]} and the commas between entries
        for index in entries.indices {
            size += 2 + FieldLengths(of: entries[index]).total  // and its braces
        }
        if let name = stream.name { size += 14 + JSONEscaping.literalLength(name) }
        if let arn = stream.arn { size += 13 + JSONEscaping.literalLength(arn) }
        return size
    }

    /// Appends the body for `entries` to `buffer`.
    @inlinable
    public static func write(_ entries: some Collection<some PutRecordsEntryFields>, stream: StreamIdentifier, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"Records\":[")
        var first = true
        for index in entries.indices {
            writeFields(of: entries[index], into: &buffer, opening: first ? "{" : ",{", closing: "}")
            first = false
        }
        buffer.writeInteger(UInt8(ascii: "]"))
        if let name = stream.name {
            buffer.writeStaticString(",\"StreamName\":")
            buffer.writeJSONString(name)
        }
        if let arn = stream.arn {
            buffer.writeStaticString(",\"StreamARN\":")
            buffer.writeJSONString(arn)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Writes `opening"Data":"…","PartitionKey":"…"[,"ExplicitHashKey":"…"]closing`: a record's members in
    /// PutRecords and PutRecord, in one write into the buffer (a write per piece costs more than the copying).
    @inlinable
    static func writeFields(
        of entry: some PutRecordsEntryFields,
        into buffer: inout ByteBuffer,
        opening: StaticString = "",
        closing: StaticString = ""
    ) {
        let data = entry.data
        let key = entry.partitionKey
        let hashKey = entry.explicitHashKey
        let lengths = FieldLengths(of: entry)
        let length = opening.utf8CodeUnitCount + lengths.total + closing.utf8CodeUnitCount
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
            var at = 0
            func put(_ text: StaticString) {
                UnsafeMutableRawBufferPointer(rebasing: output[at...])
                    .copyMemory(from: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
                at += text.utf8CodeUnitCount
            }
            put(opening)
            put("\"Data\":\"")
            data.withUnsafeBufferPointer { Base64Encoding.encode($0, into: UnsafeMutableRawBufferPointer(rebasing: output[at...])) }
            at += lengths.data
            put("\",\"PartitionKey\":")
            JSONEscaping.write(key, literalLength: lengths.key, into: UnsafeMutableRawBufferPointer(rebasing: output[at...]))
            at += lengths.key
            if let hashKey, let hashKeyLength = lengths.hashKey {
                put(",\"ExplicitHashKey\":")
                JSONEscaping.write(hashKey, literalLength: hashKeyLength, into: UnsafeMutableRawBufferPointer(rebasing: output[at...]))
                at += hashKeyLength
            }
            put(closing)
            return length
        }
    }

    /// The written lengths of a record's members, for ``encodedSize(of:stream:)`` and ``writeFields(of:into:opening:closing:)``
    /// alike: its data in base64, its partition key and explicit hash key as JSON literals.
    @usableFromInline
    struct FieldLengths {
        @usableFromInline let data: Int
        @usableFromInline let key: Int
        @usableFromInline let hashKey: Int?

        @inlinable
        init(of entry: some PutRecordsEntryFields) {
            data = (entry.data.count + 2) / 3 * 4
            key = JSONEscaping.literalLength(entry.partitionKey)
            hashKey = entry.explicitHashKey.map(JSONEscaping.literalLength)
        }

        /// `"Data":"…","PartitionKey":…[,"ExplicitHashKey":…]`: 8 + 17 bytes of names and quotes, 19 for the hash key's.
        @inlinable
        var total: Int { 25 + data + key + (hashKey.map { 19 + $0 } ?? 0) }
    }

    /// A new buffer holding the body for `entries`.
    @inlinable
    public static func encode(
        _ entries: some Collection<some PutRecordsEntryFields>,
        stream: StreamIdentifier,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSize(of: entries, stream: stream))
        write(entries, stream: stream, into: &buffer)
        return buffer
    }
}
