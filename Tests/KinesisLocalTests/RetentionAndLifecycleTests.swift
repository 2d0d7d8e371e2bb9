import AsyncHTTPClient
import Foundation
import KinesisAPI
import KinesisLocal
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import TestSupport

@Suite("KinesisLocal retention")
struct RetentionTests {
    @Test("past maxRecords the oldest records go; TRIM_HORIZON starts at the oldest kept")
    func recordCap() async throws {
        let configuration = KinesisLocal.Configuration(
            streams: [.init(name: "s", shardCount: 2)],
            retention: .init(maxRecords: 10)
        )
        try await withLocalClient(configuration) { server, client in
            var written: [(key: String, shard: String, sequenceNumber: String)] = []
            for round in 0..<5 {
                let batch = (0..<7).map { PutRecordsEntry(data: Array("r\(round)-\($0)".utf8), partitionKey: "key-\(round)-\($0)") }
                let result = try await client.putRecords(batch, stream: .name("s"))
                #expect(result.failedRecordCount == 0)
                written += zip(batch, result.records).map { ($0.partitionKey, $1.shardID!, $1.sequenceNumber!) }
                let stored = server.stats().streams["s"]?.storedRecords
                #expect(stored == min(10, (round + 1) * 7))
            }
            let stats = try #require(server.stats().streams["s"])
            #expect(stats.storedRecords == 10)
            #expect(stats.accepted == 35)
            #expect(stats.shards.map(\.storedRecords).reduce(0, +) == 10)

            // The ten newest survive, split over the shards in put order.
            let kept = Array(written.suffix(10))
            for shard in [shardID(0), shardID(1)] {
                let records = try await readShard(client, stream: .name("s"), shardID: shard)
                let expected = kept.filter { $0.shard == shard }
                #expect(records.map(\.partitionKey) == expected.map(\.key), "\(shard)")
                #expect(records.map(\.sequenceNumber) == expected.map(\.sequenceNumber), "\(shard)")
                #expect(records.first?.partitionKey == expected.first?.key)
            }
        }
    }

    @Test("past maxBytes the oldest records go")
    func byteCap() async throws {
        let configuration = KinesisLocal.Configuration(
            streams: [.init(name: "s", shardCount: 1)],
            retention: .init(maxRecords: 1000, maxBytes: 10_000)
        )
        try await withLocalClient(configuration) { server, client in
            for index in 0..<25 {
                _ = try await client.putRecord(PutRecordsEntry(data: Array(repeating: UInt8(index), count: 1000), partitionKey: "k\(index)"), stream: .name("s"))
            }
            #expect(server.stats().streams["s"]?.storedRecords == 10)
            let records = try await readShard(client, stream: .name("s"), shardID: shardID(0))
            #expect(records.map(\.partitionKey) == (15..<25).map { "k\($0)" })
            #expect(records.first?.data == Array(repeating: 15, count: 1000))
        }
    }
}

@Suite("KinesisLocal lifecycle")
struct LifecycleTests {
    @Test("as a Service, run() returns after graceful shutdown and the port is closed")
    func serviceGracefulShutdown() async throws {
        let server = try await KinesisLocal.start(.init(streams: [.init(name: "s", shardCount: 1)]))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                try await withClient(url: server.endpoint, retry: noRetry) { client in
                    let shards = try await client.listShards(stream: .name("s"))
                    #expect(shards.count == 1)
                }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        try await withClient(url: server.endpoint, retry: noRetry) { client in
            let error = await kinesisError { _ = try await client.listShards(stream: .name("s")) }
            #expect(error?.code == .transport)
        }
        try await server.stop()  // idempotent after run()
    }

    @Test("in a ServiceGroup, triggerGracefulShutdown ends run()")
    func serviceGroup() async throws {
        let server = try await KinesisLocal.start(.init(streams: [.init(name: "s", shardCount: 1)]))
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: server)], logger: Logger(label: "test"))
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await withClient(url: server.endpoint, retry: noRetry) { client in
                let put = try await client.putRecord(PutRecordsEntry(data: [1], partitionKey: "k"), stream: .name("s"))
                #expect(put.shardID == shardID(0))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(server.stats().streams["s"]?.accepted == 1)
        try await server.stop()
    }

    @Test("stop() is idempotent, also concurrently; createStream and stats work before it")
    func stopIdempotent() async throws {
        let server = try await KinesisLocal.start()
        #expect(server.endpoint == "http://127.0.0.1:\(server.port)")
        #expect(server.port > 0)
        try server.createStream(.init(name: "made", shardCount: 3))
        #expect(throws: (any Error).self) { try server.createStream(.init(name: "made", shardCount: 3)) }
        #expect(throws: (any Error).self) { try server.createStream(.init(name: "bad name!", shardCount: 3)) }
        #expect(throws: (any Error).self) { try server.createStream(.init(name: "zero", shardCount: 0)) }
        #expect(server.stats().streams["made"]?.openShards == 3)
        try await server.stop()
        try await server.stop()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try await server.stop() } }
            try await group.waitForAll()
        }
    }

    @Test("two servers on port 0 get different ports; a taken port is a clear error")
    func ports() async throws {
        try await withServer { first in
            try await withServer { second in
                #expect(first.port != second.port)
                await #expect(throws: (any Error).self) {
                    let clash = try await KinesisLocal.start(.init(port: first.port))
                    try await clash.stop()
                }
            }
        }
    }
}
