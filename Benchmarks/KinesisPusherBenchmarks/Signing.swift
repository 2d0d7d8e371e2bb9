import AWSSigning
import Benchmark
import Foundation
import KinesisAPI
import NIOCore

/// SigV4 for one PutRecords request, with the headers KinesisClient signs. The signer keeps its signing-key cache
/// across iterations, as the client does (one HMAC chain per day, not per request).
func signingBenchmarks() {
    let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
    let credentials = AWSCredentialIdentity(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    let headers: [(name: String, value: String)] = [
        ("Host", "kinesis.us-east-1.amazonaws.com"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecords"),
    ]
    let date = Date(timeIntervalSince1970: 1_764_000_000)
    let stream = StreamIdentifier.name("bench-stream")
    // 270 records of 100 bytes: a 50 KB body. The small one is a single record.
    let large = Array(PutRecordsBody.encode(Fixtures.entries(270), stream: stream).readableBytesView)
    let small = Array(PutRecordsBody.encode(Fixtures.entries(1), stream: stream).readableBytesView)

    func sign(_ body: [UInt8]) -> SigV4Signature {
        signer.sign(
            method: "POST",
            headers: headers,
            payloadHash: SigV4Signer.payloadHash(body),
            credentials: credentials,
            date: date
        )
    }

    Benchmark("SigV4 sign PutRecords, \(large.count / 1000) KB body (hash + sign), per request") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sign(large))
        }
    }
    Benchmark("SigV4 sign PutRecords, \(small.count) B body (hash + sign), per request") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sign(small))
        }
    }
    let payloadHash = SigV4Signer.payloadHash(large)
    Benchmark("SigV4 sign only (payload hash given), per request") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                signer.sign(method: "POST", headers: headers, payloadHash: payloadHash, credentials: credentials, date: date)
            )
        }
    }
}
