import AWSCredentials
import AWSSigning
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinesisLocal
import KinesisPusher
import KinesisPusherPrometheus
import Logging
import Synchronization
import Testing

@testable import EventsApp

@Suite("events-app against an in-process KinesisLocal")
struct EventsAppTests {
    static let partitionKey = HTTPField.Name("Partition-Key")!

    /// Runs `body` with the app's router and a running runner on a KinesisLocal stream "events"; shuts the runner
    /// down afterwards (flushing what `send` queued) and returns what the stream holds.
    func withApp(
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws -> [KinesisLocal.StoredRecord] {
        let local = try await KinesisLocal.start(.init(streams: [.init(name: "events", shardCount: 2)], shardLimits: .off))
        do {
            let configuration = AppConfiguration(stream: "events", region: "us-east-1", endpoint: local.endpoint)
            let metrics = PrometheusMetrics()
            let logger = Logger(label: "events-app-test")
            let runner = try makeRunner(
                configuration,
                metrics: metrics,
                logger: logger,
                credentials: StaticCredentialProvider(AWSCredentialIdentity(accessKeyID: "test", secretAccessKey: "test"))
            )
            #expect(try await runner.checkShards() == 2)
            let app = buildApplication(configuration, router: buildRouter(configuration, runner: runner, metrics: metrics), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runner.run() }
                try await app.test(.router, body)
                await runner.shutdown()
                try await group.waitForAll()
            }
            let stored = try local.storedRecords(stream: "events")
            try await local.stop()
            return stored
        } catch {
            try? await local.stop()
            throw error
        }
    }

    @Test("the key comes from the Partition-Key header, else from the JSON field; without one the answer is 400")
    func partitionKeys() async throws {
        let stored = try await withApp { client in
            try await client.execute(
                uri: "/events", method: .post, headers: [Self.partitionKey: "user-1"], body: ByteBuffer(string: "plain text")
            ) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/events", method: .post, body: ByteBuffer(string: #"{"partitionKey":"user-2","n":2}"#)) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/events", method: .post, body: ByteBuffer(string: #"{"partitionKey":42}"#)) { response in
                #expect(response.status == .accepted)
            }
            try await client.execute(uri: "/events", method: .post, body: ByteBuffer(string: #"{"n":3}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("no partition key"))
            }
            try await client.execute(uri: "/events", method: .post, body: ByteBuffer(string: "not json")) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(Set(stored.map(\.partitionKey)) == ["user-1", "user-2", "42"])
        #expect(stored.first { $0.partitionKey == "user-1" }.map { String(decoding: $0.data, as: UTF8.self) } == "plain text")
    }

    @Test("?wait=true answers 201 with the shard and sequence number Kinesis stored the event under")
    func waitForTheAcknowledgement() async throws {
        struct Answer: Decodable {
            var status: String
            var shardId: String
            var sequenceNumber: String
            var attempts: Int
        }
        let answers = AnswerBox()
        let stored = try await withApp { client in
            try await client.execute(
                uri: "/events?wait=true", method: .post, headers: [Self.partitionKey: "order-7"], body: ByteBuffer(string: #"{"total":12}"#)
            ) { response in
                #expect(response.status == .created)
                let answer = try JSONDecoder().decode(Answer.self, from: Data(response.body.readableBytesView))
                #expect(answer.status == "stored")
                #expect(answer.attempts == 1)
                answers.set(answer.shardId, answer.sequenceNumber)
            }
        }
        #expect(stored.count == 1)
        #expect(stored.first.map { [$0.shardID, $0.sequenceNumber] } == answers.get())
    }

    @Test("an event larger than Kinesis takes is refused with 400 (or 413 past the body limit), naming the limit")
    func tooLarge() async throws {
        let stored = try await withApp { client in
            let almost = ByteBuffer(repeating: UInt8(ascii: "x"), count: EventsController.maxBodyBytes)
            try await client.execute(uri: "/events", method: .post, headers: [Self.partitionKey: "big"], body: almost) { response in
                #expect(response.status == .badRequest)
            }
            let over = ByteBuffer(repeating: UInt8(ascii: "x"), count: EventsController.maxBodyBytes + 1)
            try await client.execute(uri: "/events", method: .post, headers: [Self.partitionKey: "big"], body: over) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
        #expect(stored.isEmpty)
    }

    @Test("/metrics shows the runner's counters after events went through")
    func metrics() async throws {
        _ = try await withApp { client in
            try await client.execute(uri: "/events?wait=true", method: .post, headers: [Self.partitionKey: "k"], body: ByteBuffer(string: "e")) { response in
                #expect(response.status == .created)
            }
            // The runner publishes its counters from its loop, a moment after put() returned: poll for up to 5 s.
            let delivered = #"kinesis_pusher_records_total{stream="events",status="success"} 1"#
            var text = ""
            for _ in 0..<50 {
                text = try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    return String(buffer: response.body)
                }
                if text.contains(delivered) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(text.contains(delivered))
            #expect(text.contains(#"kinesis_pusher_records_accepted_total{stream="events"} 1"#))
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("the configuration names a missing or malformed variable")
    func configuration() throws {
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: [:]) }
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["KINESIS_STREAM": "s", "PORT": "http"]) }
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["KINESIS_STREAM": "s", "METRICS_USER": "prom"]) }
        let parsed = try AppConfiguration(environment: [
            "KINESIS_STREAM": "events", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:4567", "PORT": "9000",
            "LOG_LEVEL": "DEBUG",
        ])
        #expect(parsed.stream == "events")
        #expect(parsed.region == "eu-west-1")
        #expect(parsed.endpoint == "http://127.0.0.1:4567")
        #expect(parsed.port == 9000)
        #expect(parsed.logLevel == .debug)
    }
}

/// Carries a value out of a `@Sendable` test closure.
final class AnswerBox: Sendable {
    private let value = Mutex<[String]?>(nil)
    func set(_ shard: String, _ sequence: String) { value.withLock { $0 = [shard, sequence] } }
    func get() -> [String]? { value.withLock { $0 } }
}
