import Foundation
import KinesisAPI
import KinesisLocal
import NIOHTTP1
import Testing
import TestSupport

/// The poison-record fault: listed records always fail with `InternalFailure`, every other record is stored.
@Suite("KinesisLocal poison records")
struct PoisonRecordTests {
    @Test("a poison record fails every time, its neighbours in the same call are stored; the admin endpoint sets and clears the list")
    func poison() async throws {
        try await withLocalClient(.init(streams: [.init(name: "s", shardCount: 2)], faults: .init(poisonRecords: ["poison"]))) { server, client in
            let entries = ["before", "poison", "after"].map { PutRecordsEntry(data: Array($0.utf8), partitionKey: $0) }
            for _ in 0..<3 {
                let answer = try await client.putRecords(entries, stream: .name("s"))
                #expect(answer.failedRecordCount == 1)
                #expect(answer.records.map(\.errorCode) == [nil, "InternalFailure", nil])
            }
            #expect(server.stats().streams["s"]?.accepted == 6)

            let set = try await admin(server, .POST, "/_admin/faults", json: #"{"poisonRecords":["after"]}"#)
            #expect(set.status == 200, "\(set.body)")
            #expect(server.faults.poisonRecords == ["after"])
            let moved = try await client.putRecords(entries, stream: .name("s"))
            #expect(moved.records.map(\.errorCode) == [nil, nil, "InternalFailure"])

            #expect(try await admin(server, .POST, "/_admin/faults", json: "{}").status == 200)
            #expect(try await client.putRecords(entries, stream: .name("s")).failedRecordCount == 0)
            let stored = try server.storedRecords(stream: "s").map { String(decoding: $0.data, as: UTF8.self) }
            #expect(stored.filter { $0 == "poison" }.count == 2)
            #expect(stored.count == 11)
        }
    }
}
