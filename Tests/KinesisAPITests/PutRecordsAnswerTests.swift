import Backoff
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import KinesisAPI

@Suite("PutRecords answer: the fast reader agrees with JSONDecoder or steps aside")
struct PutRecordsAnswerTests {
    static let stored = #"{"SequenceNumber":"49543463076548007577105092703039560359975228518395019266","ShardId":"shardId-000000000001"}"#
    static let throttled = #"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream s under account 123456789012."}"#

    static func general(_ text: String) -> PutRecordsResult? {
        try? JSONDecoder().decode(PutRecordsResult.self, from: Data(text.utf8))
    }

    static func fast(_ text: String) -> PutRecordsResult? {
        PutRecordsAnswer.read(ByteBuffer(string: text))?.result
    }

    @Test(
        "usual answers are read by the fast path, exactly as JSONDecoder reads them",
        arguments: [
            #"{"FailedRecordCount":0,"Records":[\#(stored),\#(stored)],"EncryptionType":"NONE"}"#,
            #"{"FailedRecordCount":1,"Records":[\#(stored),\#(throttled)]}"#,
            #"{"Records":[]}"#,
            #" { "Records" : [ { "SequenceNumber" : "1" , "ShardId" : null } ] , "EncryptionType" : null }  "#,
            "{\"Records\":[{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"Ünïcödé ✓\"}],\"FailedRecordCount\":1}\n",
            #"{"Records":[{}],"FailedRecordCount":10}"#,
            // Shard ids and error codes are shared between entries: each entry still gets its own values.
            #"{"Records":[{"ShardId":"shardId-000000000001","SequenceNumber":"1"},{"ShardId":"shardId-000000000002","SequenceNumber":"2"},"#
                + #"{"ShardId":"shardId-000000000001","SequenceNumber":"3"},{"ShardId":"shardId-00000000000","SequenceNumber":"4"},"#
                + #"{"ErrorCode":"InternalFailure","ErrorMessage":"a"},{"ErrorCode":"InternalFailur","ErrorMessage":"b"},"#
                + #"{"ErrorCode":"InternalFailure","ErrorMessage":"a"},{"ShardId":"ßhard","SequenceNumber":"5"}],"FailedRecordCount":3}"#,
        ]
    )
    func usual(text: String) throws {
        let fast = try #require(Self.fast(text))
        #expect(fast == Self.general(text))
    }

    @Test("sequence numbers kept as the answer's bytes read back right, also from an answer in the middle of a buffer")
    func sequenceNumbersFromBytes() throws {
        let text = #"{"Records":[\#(Self.stored),{"SequenceNumber":"7","ShardId":"shardId-000000000002"},\#(Self.throttled),{"SequenceNumber":null}]}"#
        // The answer as a channel hands it over: a readable window of a larger buffer.
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n" + text + "trailing bytes")
        buffer.moveReaderIndex(forwardBy: 19)
        let window = buffer.readSlice(length: text.utf8.count)
        let answer = try #require(window)
        let result = try #require(PutRecordsAnswer.read(answer)?.result)
        #expect(result.records.map(\.sequenceNumber) == ["49543463076548007577105092703039560359975228518395019266", "7", nil, nil])
        #expect(result.records.map(\.succeeded) == [true, true, false, false])
        // Equal and hashed alike, however the number is held.
        let made = PutRecordsResult.Entry(sequenceNumber: "7", shardID: "shardId-000000000002")
        #expect(result.records[1] == made && Set([result.records[1], made]).count == 1)
        var changed = result.records[1]
        changed.sequenceNumber = "8"
        #expect(changed.sequenceNumber == "8" && changed != made)
    }

    @Test("the producer's reading of an answer says what its public form says, entry by entry, however it was decoded")
    func outcomesAgreeWithResult() throws {
        // 40 distinct messages: more than the reader looks through for repeats, and one over the cap.
        let long = String(repeating: "m", count: AnswerText.maxBytes + 10)
        let failures = (0..<40).map { #"{"ErrorCode":"InternalFailure","ErrorMessage":"fault \#($0)"}"# }
        let text = #"{"FailedRecordCount":42,"Records":[\#(Self.stored),\#(Self.throttled),"#
            + failures.joined(separator: ",") + #",{"ErrorCode":"InternalFailure","ErrorMessage":"\#(long)"},{"SequenceNumber":"9","ShardId":"shardId-000000000001"}]}"#
        let fast = try #require(PutRecordsAnswer.read(ByteBuffer(string: text)))
        let general = PutRecordsOutcomes(try #require(Self.general(text)))
        for outcomes in [fast, general] {
            #expect(outcomes.count == 44 && outcomes.failedRecordCount == 42 && outcomes.failedEntryCount == 42)
            let result = outcomes.result
            for position in 0..<outcomes.count {
                let entry = result.records[position]
                #expect(outcomes.succeeded(at: position) == entry.succeeded)
                #expect(outcomes.shardID(at: position) == entry.shardID)
                #expect(outcomes.errorCode(at: position) == entry.errorCode)
                #expect(outcomes.errorMessage(at: position) == entry.errorMessage)
                #expect(outcomes.sequenceNumber(at: position) == entry.sequenceNumber)
            }
            #expect(outcomes.errorMessage(at: 2) == "fault 0" && outcomes.errorMessage(at: 41) == "fault 39")
            #expect(outcomes.sequenceNumber(at: 43) == "9" && outcomes.shardID(at: 43) == "shardId-000000000001")
        }
        // Error texts are capped once read; the general path's too, when decoded for a call.
        #expect(fast.errorMessage(at: 42) == AnswerText.capped(long))
        #expect(general.errorMessage(at: 42) == AnswerText.capped(long))
        #expect(try PutRecordsOutcomes.decode(answer: ByteBuffer(string: text), recordCount: 44).result == fast.result)
        #expect(throws: KinesisError.self) { try PutRecordsOutcomes.decode(answer: ByteBuffer(string: text), recordCount: 43) }
    }

    @Test("a byte that needs a look is seen wherever it stands in a string (the reader skips eight plain bytes at a time)")
    func specialBytesAnywhere() throws {
        for position in 0..<40 {
            func answer(_ special: String) -> String {
                var text = String(repeating: "7", count: 40)
                text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: position))
                return #"{"Records":[{"ErrorCode":"InternalFailure","ErrorMessage":"\#(text)"},{"SequenceNumber":"\#(text)","ShardId":"s"}]}"#
            }
            // Escapes and control characters are the general path's; a non-ASCII character is read here, exactly.
            for special in [#"\""#, #"\n"#, "\u{01}", "\u{1F}"] { #expect(Self.fast(answer(special)) == nil, "\(position)") }
            let accented = answer("é")
            #expect(Self.fast(#"{"Records":[{"ErrorCode":"InternalFailure","ErrorMessage":"\#(String(repeating: "7", count: position))é"}]}"#) != nil)
            // A non-ASCII sequence number is left to the general path too.
            #expect(Self.fast(accented) == nil)
            let digits = String(repeating: "7", count: position)
            let plain = #"{"Records":[{"SequenceNumber":"\#(digits)1","ShardId":"shardId-000000000001"}]}"#
            #expect(Self.fast(plain) != nil && Self.fast(plain) == Self.general(plain))
        }
    }

    @Test(
        "anything unusual is left to JSONDecoder (which may accept or refuse it)",
        arguments: [
            #"{"Records":[{"ErrorMessage":"quote \" inside"}]}"#,
            #"{"Records":[{"Unknown":"x"}]}"#,
            #"{"Records":[],"Records":[]}"#,
            #"{"Records":[{"ShardId":"a","ShardId":"b"}]}"#,
            #"{"Records":[],"FailedRecordCount":-1}"#,
            #"{"Records":[],"FailedRecordCount":1.0}"#,
            #"{"Records":[],"FailedRecordCount":01}"#,
            #"{"Records":[],"FailedRecordCount":1e2}"#,
            #"{"Records":[],"FailedRecordCount":null}"#,
            #"{"Records":[],"FailedRecordCount":1234567890123}"#,
            #"{"Records":[{"ShardId":1}]}"#,
            #"{"FailedRecordCount":0}"#,
            #"{"Records":[]} x"#,
            #"[]"#,
            "",
        ]
    )
    func unusual(text: String) {
        #expect(Self.fast(text) == nil)
    }

    @Test("random mutations of real answers: whenever the fast path reads one, JSONDecoder reads the same")
    func mutations() {
        var random = SplitMix64(seed: 0x5eed)
        let base = Array(#"{"FailedRecordCount":1,"Records":[\#(Self.stored),\#(Self.throttled),{"SequenceNumber":"7","ShardId":"s"}],"EncryptionType":"KMS"}"#.utf8)
        let alphabet = Array(#"{}[]:,"\ 0123456789.eE-nul"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var readFast = 0
        for _ in 0..<20_000 {
            var bytes = base
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                }
            }
            guard let fast = PutRecordsAnswer.read(ByteBuffer(bytes: bytes))?.result else { continue }
            readFast += 1
            let general = try? JSONDecoder().decode(PutRecordsResult.self, from: Data(bytes))
            #expect(fast == general, "\(String(decoding: bytes, as: UTF8.self))")
        }
        // Some mutations keep the answer valid (inside strings, whitespace), so the comparison is exercised.
        #expect(readFast > 100)
    }
}
