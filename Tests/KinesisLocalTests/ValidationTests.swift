import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Requests AWS refuses, refused the same way: `__type`, HTTP 400, and a message like AWS's.
@Suite("KinesisLocal validation")
struct ValidationTests {
    static let configuration = KinesisLocal.Configuration(streams: [.init(name: "s", shardCount: 2)], shardLimits: .off, maxRequestBytes: 5 << 20)

    /// A raw PutRecords body with `count` small records.
    static func body(records count: Int, stream: String = "s") -> ByteBuffer {
        PutRecordsBody.encode((0..<count).map { PutRecordsEntry(data: [UInt8($0 % 256)], partitionKey: "k\($0)") }, stream: .name(stream))
    }

    /// Checks an error answer's shape: status, `__type` in the body and the header, a request id.
    static func expectError(_ answer: RawAnswer, type: String, messageContains: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == 400, "\(answer.body)", sourceLocation: sourceLocation)
        #expect(answer.errorType == type, "\(answer.body)", sourceLocation: sourceLocation)
        #expect(answer.headers.first(name: "X-Amzn-ErrorType") == type, sourceLocation: sourceLocation)
        #expect(answer.headers.first(name: "x-amzn-RequestId") != nil, sourceLocation: sourceLocation)
        #expect(answer.headers.first(name: "Content-Type") == "application/x-amz-json-1.1", sourceLocation: sourceLocation)
        for part in messageContains {
            #expect(answer.message?.contains(part) == true, "message: \(answer.message ?? "nil")", sourceLocation: sourceLocation)
        }
    }

    @Test("0 and 501 records: ValidationException on 'records'")
    func recordCount() async throws {
        try await withServer(Self.configuration) { server in
            let none = try await rawKinesis(server.endpoint, operation: "PutRecords", body: Self.body(records: 0))
            Self.expectError(none, type: "ValidationException", messageContains: [
                "1 validation error detected", "at 'records'", "Member must have length greater than or equal to 1",
            ])
            let tooMany = try await rawKinesis(server.endpoint, operation: "PutRecords", body: Self.body(records: 501))
            Self.expectError(tooMany, type: "ValidationException", messageContains: [
                "1 validation error detected", "Value '501' at 'records'", "Member must have length less than or equal to 500",
            ])
            // The request's shape is checked before the stream is looked up, as AWS does.
            let noneMissing = try await rawKinesis(server.endpoint, operation: "PutRecords", body: Self.body(records: 0, stream: "nope"))
            #expect(noneMissing.errorType == "ValidationException", "\(noneMissing.body)")
            let fine = try await rawKinesis(server.endpoint, operation: "PutRecords", body: Self.body(records: 500))
            #expect(fine.status == 200)
            #expect(fine.object?["FailedRecordCount"] as? Int == 0)
            #expect(server.stats().streams["s"]?.accepted == 500)
        }
    }

    @Test("a record over 1 MiB (data plus key): ValidationException; exactly 1 MiB passes")
    func recordSize() async throws {
        try await withLocalClient(Self.configuration, retry: noRetry) { server, client in
            let key = "key-12345"
            let exact = PutRecordsEntry(data: Array(repeating: 1, count: 1_048_576 - key.utf8.count), partitionKey: key)
            let ok = try await client.putRecords([exact], stream: .name("s"))
            #expect(ok.failedRecordCount == 0)
            let over = PutRecordsEntry(data: Array(repeating: 1, count: 1_048_576 - key.utf8.count + 1), partitionKey: key)
            let error = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "small"), over], stream: .name("s")) }
            #expect(error?.code == .validation)
            #expect(error?.httpStatus == 400)
            #expect(error?.retryClass == .fatal)
            #expect(error?.message.contains("'records.2.member.data'") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("Member must have length less than or equal to 1048576") == true, "\(error?.message ?? "")")
            let single = await kinesisError { _ = try await client.putRecord(over, stream: .name("s")) }
            #expect(single?.code == .validation)
            // Nothing of a refused request is stored.
            #expect(server.stats().streams["s"]?.accepted == 1)
        }
    }

    @Test("a request over the configured maximum (5 MiB): InvalidArgumentException 'Records size exceeds 5 MB limit'")
    func requestSize() async throws {
        try await withLocalClient(Self.configuration, retry: noRetry) { server, client in
            let key = "k"
            let records = (0..<6).map { _ in PutRecordsEntry(data: Array(repeating: 3, count: 1_048_576 - key.utf8.count), partitionKey: key) }
            let error = await kinesisError { _ = try await client.putRecords(records, stream: .name("s")) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.httpStatus == 400)
            #expect(error?.message == "Records size exceeds 5 MB limit")
            // Five of them are exactly 5 MiB, which is allowed.
            let five = try await client.putRecords(Array(records.prefix(5)), stream: .name("s"))
            #expect(five.failedRecordCount == 0)
            #expect(server.stats().streams["s"]?.accepted == 5)
        }
    }

    @Test("partition keys of 0 and 257 characters: ValidationException; 256 (in characters, not bytes) passes")
    func partitionKeyLength() async throws {
        try await withLocalClient(Self.configuration, retry: noRetry) { _, client in
            let empty = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "")], stream: .name("s")) }
            #expect(empty?.code == .validation)
            #expect(empty?.message.contains("at 'records.1.member.partitionKey'") == true, "\(empty?.message ?? "")")
            #expect(empty?.message.contains("Member must have length greater than or equal to 1") == true, "\(empty?.message ?? "")")

            let long = String(repeating: "x", count: 257)
            let tooLong = await kinesisError {
                _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "ok"), PutRecordsEntry(data: [1], partitionKey: long)], stream: .name("s"))
            }
            #expect(tooLong?.code == .validation)
            #expect(tooLong?.message.contains("at 'records.2.member.partitionKey'") == true, "\(tooLong?.message ?? "")")
            #expect(tooLong?.message.contains("Member must have length less than or equal to 256") == true, "\(tooLong?.message ?? "")")
            let singleTooLong = await kinesisError { _ = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: long), stream: .name("s")) }
            #expect(singleTooLong?.code == .validation)

            // 256 characters of 4-byte UTF-8 is 1024 bytes, still a valid key.
            let wide = String(repeating: "🙂", count: 256)
            let fine = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: wide)], stream: .name("s"))
            #expect(fine.failedRecordCount == 0)
        }
    }

    @Test("an explicit hash key outside [0, 2^128-1]: InvalidArgumentException")
    func explicitHashKeyRange() async throws {
        try await withLocalClient(Self.configuration, retry: noRetry) { _, client in
            for bad in ["340282366920938463463374607431768211456", "-1", "12abc"] {
                let error = await kinesisError {
                    _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k", explicitHashKey: bad)], stream: .name("s"))
                }
                #expect(error?.code == .invalidArgument, "\(bad)")
                #expect(error?.message.contains("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(bad)") == true, "\(error?.message ?? "")")
            }
            let single = await kinesisError {
                _ = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "k", explicitHashKey: "340282366920938463463374607431768211456"), stream: .name("s"))
            }
            #expect(single?.code == .invalidArgument)
        }
    }

    @Test("an unknown stream: ResourceNotFoundException naming stream and account")
    func unknownStream() async throws {
        try await withLocalClient(Self.configuration, retry: noRetry) { _, client in
            let put = await kinesisError { _ = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("nope")) }
            #expect(put?.code == .resourceNotFound)
            #expect(put?.message == "Stream nope under account 123456789012 not found.")
            #expect(put?.requestID != nil)
            let byARN = await kinesisError {
                _ = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "k"), stream: .arn("arn:aws:kinesis:us-east-1:123456789012:stream/nope"))
            }
            #expect(byARN?.code == .resourceNotFound)
            for call in ["summary", "listShards", "iterator", "delete"] {
                let error = await kinesisError {
                    switch call {
                    case "summary": _ = try await client.describeStreamSummary(stream: .name("nope"))
                    case "listShards": _ = try await client.listShards(stream: .name("nope"))
                    case "iterator": _ = try await client.getShardIterator(stream: .name("nope"), shardID: shardID(0), position: .trimHorizon)
                    default: try await client.deleteStream(stream: .name("nope"))
                    }
                }
                #expect(error?.code == .resourceNotFound, "\(call)")
            }
            let shard = await kinesisError { _ = try await client.getShardIterator(stream: .name("s"), shardID: shardID(9), position: .trimHorizon) }
            #expect(shard?.code == .resourceNotFound)
        }
    }

    @Test("malformed JSON and malformed base64: SerializationException")
    func malformedBodies() async throws {
        try await withServer(Self.configuration) { server in
            for json in [#"{"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"k"}"#, "not json", #"{"StreamName":"s"} trailing"#, #"{"StreamName":"s","Records":5}"#] {
                let answer = try await rawKinesis(server.endpoint, operation: "PutRecords", json: json)
                Self.expectError(answer, type: "SerializationException", messageContains: [])
                #expect(answer.message?.isEmpty == false)
            }
            let control = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s""#)
            Self.expectError(control, type: "SerializationException", messageContains: [])

            for data in ["AA=", "A$==", "AAAA!AAA", "====", "AA=A"] {
                let answer = try await rawKinesis(
                    server.endpoint,
                    operation: "PutRecords",
                    json: #"{"StreamName":"s","Records":[{"Data":"AAAA","PartitionKey":"k"},{"Data":"\#(data)","PartitionKey":"k"}]}"#
                )
                Self.expectError(answer, type: "SerializationException", messageContains: ["base64"])
            }
            let single = try await rawKinesis(server.endpoint, operation: "PutRecord", json: #"{"StreamName":"s","Data":"%%%%","PartitionKey":"k"}"#)
            Self.expectError(single, type: "SerializationException", messageContains: ["base64"])

            // Missing members are validation errors.
            let noKey = try await rawKinesis(server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","Records":[{"Data":"AAAA"}]}"#)
            Self.expectError(noKey, type: "ValidationException", messageContains: ["partitionKey", "Member must not be null"])
            // Escaped slashes in base64 (as some JSON encoders write them) are fine.
            let escaped = try await rawKinesis(server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","Records":[{"Data":"\/w==","PartitionKey":"k"}]}"#)
            #expect(escaped.status == 200, "\(escaped.body)")
            #expect(server.stats().streams["s"]?.accepted == 1)
        }
    }

    /// Found with Fuzz/FuzzLocalRequest's check against Foundation's JSON reader (the repeated members by the
    /// fuzzer itself, the others on crafted inputs): these bodies are valid JSON that AWS reads, and the scanner
    /// refused them or read other records.
    @Test("escaped member names, null members and a repeated Records member are read as AWS's JSON reader reads them")
    func jsonReaderConformance() async throws {
        try await withServer(Self.configuration) { server in
            let escaped = try await rawKinesis(
                server.endpoint, operation: "PutRecords",
                json: #"{"Stream\u004eame":"s","Reco\u0072ds":[{"D\u0061ta":"AAAA","Partition\u004bey":"k"}]}"#)
            #expect(escaped.status == 200, "\(escaped.body)")
            #expect((escaped.object?["Records"] as? [Any])?.count == 1)

            let nullARN = try await rawKinesis(
                server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","StreamARN":null,"Records":[{"Data":"AAAA","PartitionKey":"k"}]}"#)
            #expect(nullARN.status == 200, "\(nullARN.body)")
            let nullOrdering = try await rawKinesis(
                server.endpoint, operation: "PutRecord",
                json: #"{"StreamARN":null,"StreamName":"s","Data":"AAAA","PartitionKey":"k","SequenceNumberForOrdering":null}"#)
            #expect(nullOrdering.status == 200, "\(nullOrdering.body)")
            // A null member repeating one given before removes it (found by the fuzzer: the hash key was kept).
            let nullAgain = try await rawKinesis(
                server.endpoint, operation: "PutRecord",
                json: #"{"StreamName":"s","Data":"AAAA","PartitionKey":"k","ExplicitHashKey":"12abc","ExplicitHashKey":null}"#)
            #expect(nullAgain.status == 200, "\(nullAgain.body)")
            let noKey = try await rawKinesis(
                server.endpoint, operation: "PutRecords",
                json: #"{"StreamName":"s","Records":[{"Data":"AAAA","PartitionKey":"k","PartitionKey":null}]}"#)
            Self.expectError(noKey, type: "ValidationException", messageContains: ["records.1.member.partitionKey", "Member must not be null"])
            // A null stream name is no name at all.
            let nullName = try await rawKinesis(server.endpoint, operation: "PutRecords", json: #"{"StreamName":null,"Records":[{"Data":"AAAA","PartitionKey":"k"}]}"#)
            Self.expectError(nullName, type: "InvalidArgumentException", messageContains: ["Either StreamName or StreamARN must be provided."])

            // The last of two Records members counts, as with any repeated member.
            let repeated = try await rawKinesis(
                server.endpoint, operation: "PutRecords",
                json: #"{"StreamName":"s","Records":[{"Data":"AAAA","PartitionKey":"a"}],"Records":[{"Data":"AAAA","PartitionKey":"b"},{"Data":"AAAA","PartitionKey":"c"}]}"#)
            #expect(repeated.status == 200, "\(repeated.body)")
            #expect((repeated.object?["Records"] as? [Any])?.count == 2)
            // A record that cannot be stored in a replaced member does not count (found by the fuzzer)…
            let replacedBad = try await rawKinesis(
                server.endpoint, operation: "PutRecords",
                json: #"{"StreamName":"s","Records":[{"Data":"AAAA","PPartitionKey":"k"}],"Records":[{"Data":"AAAA","PartitionKey":"0"}]}"#)
            #expect(replacedBad.status == 200, "\(replacedBad.body)")
            // …and malformed JSON after such a record is what the answer names.
            let badThenMalformed = try await rawKinesis(
                server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","Records":[{"Data":"AAAA"}],"x":}"#)
            Self.expectError(badThenMalformed, type: "SerializationException", messageContains: [])
            // The fuzzer's input: the records of the first member were kept, although the last one is empty.
            let fuzzed = try await rawKinesis(
                server.endpoint, operation: "PutRecords",
                json: #"{"StamName":"e","Records":[{"Data":"La8\/","PartitionKey":"\u0e09"}],"Oth{}reamName":"e","Records":[]}"#)
            Self.expectError(fuzzed, type: "ValidationException", messageContains: ["at 'records'", "greater than or equal to 1"])
            #expect(server.stats().streams["s"]?.accepted == 7)
        }
    }

    /// Found while writing Fuzz/FuzzLocalRequest (the fuzzer's 4 KiB inputs are too short to reach it; a crafted
    /// input to the fuzz target overflowed the stack): the scanner recursed once per `[`, so one request could crash
    /// the server.
    @Test("a body nested a million levels deep: SerializationException, and the server keeps serving")
    func deepNesting() async throws {
        try await withServer(Self.configuration) { server in
            let deep = String(repeating: "[", count: 1_000_000)
            let putRecords = try await rawKinesis(server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","Records":[],"x":"# + deep)
            Self.expectError(putRecords, type: "SerializationException", messageContains: ["nesting deeper than 512 levels"])
            let putRecord = try await rawKinesis(
                server.endpoint, operation: "PutRecord", json: #"{"StreamName":"s","Data":"AAAA","PartitionKey":"k","x":{"y":"# + deep)
            Self.expectError(putRecord, type: "SerializationException", messageContains: ["nesting deeper than 512 levels"])
            let control = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","ShardFilter":"# + deep)
            Self.expectError(control, type: "SerializationException", messageContains: ["nesting deeper than 512 levels"])

            // 512 levels are still read.
            let nested = String(repeating: "[", count: 511) + String(repeating: "]", count: 511)
            let fine = try await rawKinesis(
                server.endpoint, operation: "PutRecords", json: #"{"StreamName":"s","Records":[{"Data":"AAAA","PartitionKey":"k"}],"x":"# + nested + "}")
            #expect(fine.status == 200, "\(fine.body)")
            let listed = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","x":"# + nested + "}")
            #expect(listed.status == 200, "\(listed.body)")
            #expect(server.stats().streams["s"]?.accepted == 1)
        }
    }

    @Test("unknown operations and unsigned requests are refused")
    func protocolErrors() async throws {
        try await withServer(Self.configuration) { server in
            let unknown = try await rawKinesis(server.endpoint, operation: "FlyToTheMoon", json: "{}")
            #expect(unknown.status == 400)
            #expect(unknown.errorType == "UnknownOperationException")
            let unsigned = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s"}"#, credentials: nil)
            #expect(unsigned.errorType == "MissingAuthenticationTokenException")
        }
    }
}
