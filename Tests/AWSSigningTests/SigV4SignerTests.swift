import AWSSigning
import Foundation
import Testing

@Suite("SigV4 signer")
struct SigV4SignerTests {
    static let credentials = AWSCredentialIdentity(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let putRecordsBody = #"{"Records":[{"Data":"aGVsbG8=","PartitionKey":"pk-1"}],"StreamName":"my-stream"}"#
    static let kinesisHeaders: [(name: String, value: String)] = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecords"),
        ("Host", "kinesis.us-east-1.amazonaws.com"),
    ]

    @Test("Kinesis PutRecords vector")
    func putRecordsVector() {
        let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
        let signature = signer.sign(
            method: "POST",
            headers: Self.kinesisHeaders,
            payloadHash: SigV4Signer.payloadHash(Array(Self.putRecordsBody.utf8)),
            credentials: Self.credentials,
            date: Self.date
        )
        #expect(
            signature.canonicalRequest == """
                POST
                /

                content-type:application/x-amz-json-1.1
                host:kinesis.us-east-1.amazonaws.com
                x-amz-date:20150830T123600Z
                x-amz-target:Kinesis_20131202.PutRecords

                content-type;host;x-amz-date;x-amz-target
                b41105a0c5140662d0db0309f9374c8bf9d6575cbe294bf2ad775811ff53b8e1
                """
        )
        #expect(
            signature.stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/kinesis/aws4_request
                5aaba92fea0b73c591d0d9aca8b6614cbccb63e9c9329ec2c7e3bc4c4a4328fc
                """
        )
        #expect(
            signature.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                + "Signature=448a83460a6441cc11700831db6bdc69e97c1942a76b08694d0ef35ea91500ed"
        )
        #expect(signature.headersToAdd.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(signature.headersToAdd.first?.value == "20150830T123600Z")
    }

    @Test("signing key vector")
    func signingKey() {
        #expect(
            SigV4Signer.signingKeyHex(
                secretAccessKey: Self.credentials.secretAccessKey,
                dateStamp: "20150830",
                region: "us-east-1",
                service: "kinesis"
            ) == "1a8ef0fa45f4fb9b8ca6c755f0b81c00b521d0e7b9564a363d2511b8f4d4bc54"
        )
    }

    @Test("Kinesis PutRecords vector with a session token signs the token header")
    func sessionTokenVector() {
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN//+=="
        let signature = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
            method: "POST",
            headers: Self.kinesisHeaders,
            payloadHash: SigV4Signer.payloadHash(Array(Self.putRecordsBody.utf8)),
            credentials: credentials,
            date: Self.date
        )
        #expect(signature.signedHeaders == "content-type;host;x-amz-date;x-amz-security-token;x-amz-target")
        #expect(signature.stringToSign.hasSuffix("afb7b7f1a34fef1e270038979e6dfd4569f4945fbf6da947fa5419d8701acd50"))
        #expect(signature.signature == "f80f7c220d9be346c654bd7456138cb99d078f3134dedc75ee8eb616398e2695")
        #expect(signature.headersToAdd.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(signature.canonicalRequest.contains("x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN//+==\n"))
    }

    @Test("official get-vanilla and post-vanilla values", arguments: [
        ("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ])
    func vanilla(method: String, expected: String) {
        let signature = SigV4Signer(service: "service", region: "us-east-1").sign(
            method: method,
            headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: Self.credentials,
            date: Self.date
        )
        #expect(signature.signature == expected)
        #expect(signature.signedHeaders == "host;x-amz-date")
    }

    @Test("host with a non-default port is signed exactly as sent")
    func hostWithPort() {
        let signature = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
            method: "POST",
            headers: [("Host", "127.0.0.1:5123"), ("Content-Type", "application/x-amz-json-1.1")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: Self.credentials,
            date: Self.date
        )
        #expect(signature.canonicalRequest.contains("\nhost:127.0.0.1:5123\n"))
    }

    @Test("header values are trimmed, space runs folded, repeats joined; unsigned headers left out")
    func canonicalHeaderRules() {
        let signature = SigV4Signer(service: "service", region: "us-east-1").sign(
            method: "GET",
            headers: [
                ("Host", "example.amazonaws.com"),
                ("My-Header1", "  value   with  spaces  "),
                ("my-header2", "a"),
                ("MY-HEADER2", "b"),
                ("User-Agent", "curl/8"),
                ("Connection", "keep-alive"),
            ],
            payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: Self.credentials,
            date: Self.date
        )
        #expect(signature.canonicalRequest.contains("my-header1:value with spaces\nmy-header2:a,b\n"))
        #expect(signature.signedHeaders == "host;my-header1;my-header2;x-amz-date")
    }

    @Test("query and path canonicalization")
    func queryAndPath() {
        let signature = SigV4Signer(service: "service", region: "us-east-1").sign(
            method: "GET",
            path: "/a b/ü",
            query: [("b", "2"), ("a", "x y"), ("a", "1")],
            headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: Self.credentials,
            date: Self.date
        )
        let lines = signature.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1] == "/a%20b/%C3%BC")
        #expect(lines[2] == "a=1&a=x%20y&b=2")
    }

    @Test("a retry gets a fresh date and signature while the day's signing key is reused")
    func freshSignatureOnRetry() {
        let cache = SigningKeyCache()
        let signer = SigV4Signer(service: "kinesis", region: "us-east-1", keyCache: cache)
        func sign(_ date: Date) -> SigV4Signature {
            signer.sign(
                method: "POST",
                headers: Self.kinesisHeaders,
                payloadHash: SigV4Signer.emptyPayloadHash,
                credentials: Self.credentials,
                date: date
            )
        }
        let first = sign(Self.date)
        let retry = sign(Self.date.addingTimeInterval(1))
        #expect(first.signature != retry.signature)
        #expect(retry.headersToAdd.first?.value == "20150830T123601Z")
        #expect(cache.count == 1)
        _ = sign(Self.date.addingTimeInterval(86_400))
        #expect(cache.count == 2)
    }

    @Test("leap days render correctly")
    func dateRendering() {
        let leap = SigV4Signer(service: "s", region: "r").sign(
            method: "GET",
            headers: [("Host", "h")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: Self.credentials,
            date: Date(timeIntervalSince1970: 1_709_251_199)  // 2024-02-29T23:59:59Z
        )
        #expect(leap.headersToAdd.first?.value == "20240229T235959Z")
    }

    @Test("secrets never appear in descriptions")
    func redaction() {
        var credentials = Self.credentials
        credentials.sessionToken = "TOKEN-SECRET"
        let text = "\(credentials) \(String(reflecting: credentials))"
        #expect(!text.contains("wJalrXUtnFEMI"))
        #expect(!text.contains("TOKEN-SECRET"))
        #expect(text.contains("AKIDEXAMPLE"))
    }
}
