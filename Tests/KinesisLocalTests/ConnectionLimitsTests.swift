import Foundation
import KinesisLocal
import NIOCore
import Testing
import TestSupport

/// What one client can cost the server: body size, connections, and how long an idle connection is kept.
@Suite("KinesisLocal connection limits")
struct ConnectionLimitsTests {
    /// A request head for POST / announcing `length` bytes of body.
    static func head(contentLength length: String, port: Int) -> String {
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: \(length)\r\n\r\n"
    }

    @Test("a Content-Length of 10 GB is answered 413 at once, before any body, and the connection is closed")
    func hugeContentLength() async throws {
        try await withServer { server in
            let connection = try await RawTCPConnection.connect(port: server.port)
            try await connection.send(Self.head(contentLength: "10737418240", port: server.port) + "{\"Records\":[")
            #expect(try await connection.waitFor("413", timeout: .seconds(5)), "answer: \(connection.received)")
            #expect(connection.received.contains("SerializationException"))
            #expect(try await connection.waitForClose(timeout: .seconds(5)))
        }
    }

    @Test("the body cap follows maxRequestBytes: a Content-Length just over it is refused, one under it is read")
    func capFollowsConfiguration() async throws {
        let configuration = KinesisLocal.Configuration(streams: [.init(name: "s", shardCount: 1)], maxRequestBytes: 1 << 20)
        #expect(configuration.maxBodyBytes == (3 << 19) + (1 << 20))
        #expect(KinesisLocal.Configuration().maxBodyBytes == 16 << 20, "16 MiB for the default 10 MiB request")
        try await withServer(configuration) { server in
            let over = try await RawTCPConnection.connect(port: server.port)
            try await over.send(Self.head(contentLength: String(configuration.maxBodyBytes + 1), port: server.port))
            #expect(try await over.waitFor("413", timeout: .seconds(5)), "answer: \(over.received)")
            // A valid request under the cap is served (here: an empty body, refused by validation, not by size).
            let under = try await RawTCPConnection.connect(port: server.port)
            try await under.send(Self.head(contentLength: "2", port: server.port) + "{}")
            #expect(try await under.waitFor("HTTP/1.1 400", timeout: .seconds(5)), "answer: \(under.received)")
            #expect(!under.received.contains("413"))
            await under.close()
        }
    }

    @Test("a chunked body growing past the cap is answered 413 without reading the rest")
    func chunkedOverCap() async throws {
        let configuration = KinesisLocal.Configuration(maxRequestBytes: 1 << 20)
        try await withServer(configuration) { server in
            let connection = try await RawTCPConnection.connect(port: server.port)
            try await connection.send(
                "POST / HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            let chunk = String(repeating: "A", count: 64 << 10)
            let chunkText = String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n"
            var sent = 0
            while !connection.received.contains("413"), !connection.isClosed, sent < 2 * configuration.maxBodyBytes {
                try? await connection.send(chunkText)
                sent += chunk.utf8.count
            }
            #expect(try await connection.waitFor("413", timeout: .seconds(5)), "answer after \(sent) bytes: \(connection.received)")
            // Socket buffers hold some of what was sent: refused well before twice the cap.
            #expect(sent < 2 * configuration.maxBodyBytes, "refused after \(sent) bytes")
        }
    }

    @Test("a connection beyond maxConnections is answered 503 and closed; a freed slot is reused")
    func connectionCap() async throws {
        try await withServer(.init(maxConnections: 2)) { server in
            var held: [RawTCPConnection] = []
            for _ in 0..<2 {
                let connection = try await RawTCPConnection.connect(port: server.port)
                try await connection.send("GET /_admin/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try await connection.waitFor("HTTP/1.1 ", timeout: .seconds(5)), "\(connection.received)")
                held.append(connection)
            }
            let third = try await RawTCPConnection.connect(port: server.port)
            try await third.send("GET /_admin/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(try await third.waitForClose(timeout: .seconds(5)), "the third connection is closed by the server")
            #expect(third.received.hasPrefix("HTTP/1.1 503 "), "\(third.received)")
            #expect(third.received.contains("maximum of 2 connections"), "\(third.received)")
            // One over the cap that says nothing is closed within a second or so, not left open.
            let silent = try await RawTCPConnection.connect(port: server.port)
            #expect(try await silent.waitForClose(timeout: .seconds(5)), "a silent connection over the cap is closed")
            await held[0].close()
            // The slot comes back once the server saw the close.
            try await until {
                let next = try await RawTCPConnection.connect(port: server.port)
                try? await next.send("GET /_admin/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                let served = try await next.waitFor("HTTP/1.1 ", timeout: .milliseconds(500))
                await next.close()
                return served
            }
            #expect(!held[1].isClosed)
            await held[1].close()
        }
    }

    @Test("an idle connection is closed after idleTimeout; one waiting for a delayed answer is not")
    func idleTimeout() async throws {
        let configuration = KinesisLocal.Configuration(
            streams: [.init(name: "s", shardCount: 1)],
            faults: .init(addedLatencyMilliseconds: 2500),
            idleTimeout: .seconds(1)
        )
        try await withServer(configuration) { server in
            let idle = try await RawTCPConnection.connect(port: server.port)
            #expect(try await idle.waitForClose(timeout: .seconds(5)), "an idle connection is closed")

            // A put whose answer waits 2.5 s (over the 1 s idle timeout) still gets it. (The idle timeout leaves a
            // loaded machine time to send the request after connecting.)
            let body = #"{"StreamName":"s","Records":[{"Data":"AQ==","PartitionKey":"k"}]}"#
            let waiting = try await RawTCPConnection.connect(port: server.port)
            try await waiting.send(
                "POST / HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\n"
                    + "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
            )
            #expect(try await waiting.waitFor("\"FailedRecordCount\":0", timeout: .seconds(5)), "answer: \(waiting.received)")
            // Then, kept alive and idle again, it is closed too.
            #expect(try await waiting.waitForClose(timeout: .seconds(5)))
        }
    }

    @Test("a connection announcing a body and never sending it is closed after idleTimeout")
    func stalledBody() async throws {
        try await withServer(.init(idleTimeout: .seconds(1))) { server in
            let stalled = try await RawTCPConnection.connect(port: server.port)
            try await stalled.send(Self.head(contentLength: "1000", port: server.port) + "{")
            #expect(try await stalled.waitForClose(timeout: .seconds(5)))
        }
    }
}
