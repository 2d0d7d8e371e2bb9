import KinesisAPI
import Testing
import TestSupport

@Suite("KinesisEndpoint")
struct KinesisEndpointTests {
    @Test(
        "regional resolver (reference §2)",
        arguments: [
            ("us-east-1", false, false, "https://kinesis.us-east-1.amazonaws.com/"),
            ("us-east-1", true, false, "https://kinesis-fips.us-east-1.amazonaws.com/"),
            ("us-east-1", false, true, "https://kinesis.us-east-1.api.aws/"),
            ("us-east-1", true, true, "https://kinesis-fips.us-east-1.api.aws/"),
            ("eu-west-1", false, false, "https://kinesis.eu-west-1.amazonaws.com/"),
            ("cn-north-1", false, false, "https://kinesis.cn-north-1.amazonaws.com.cn/"),
            ("cn-north-1", true, false, "https://kinesis-fips.cn-north-1.amazonaws.com.cn/"),
            ("cn-north-1", false, true, "https://kinesis.cn-north-1.api.amazonwebservices.com.cn/"),
            ("cn-north-1", true, true, "https://kinesis-fips.cn-north-1.api.amazonwebservices.com.cn/"),
            ("us-gov-west-1", false, false, "https://kinesis.us-gov-west-1.amazonaws.com/"),
            // GovCloud's standard host is already FIPS: the partition table special-cases it.
            ("us-gov-west-1", true, false, "https://kinesis.us-gov-west-1.amazonaws.com/"),
            ("us-gov-west-1", false, true, "https://kinesis.us-gov-west-1.api.aws/"),
            ("us-gov-west-1", true, true, "https://kinesis-fips.us-gov-west-1.api.aws/"),
            ("us-iso-east-1", false, false, "https://kinesis.us-iso-east-1.c2s.ic.gov/"),
            ("us-isob-east-1", false, false, "https://kinesis.us-isob-east-1.sc2s.sgov.gov/"),
        ]
    )
    func resolve(region: String, fips: Bool, dualStack: Bool, expected: String) throws {
        let endpoint = try KinesisEndpoint.resolve(region: region, useFIPS: fips, useDualStack: dualStack)
        #expect(endpoint.url == expected)
        #expect(endpoint.scheme == "https")
        #expect(endpoint.port == nil)
        #expect(!endpoint.hostHeader.contains(":"))
    }

    @Test("partitions without dual-stack endpoints refuse dual-stack")
    func isoDualStack() async {
        let error = await kinesisError { _ = try KinesisEndpoint.resolve(region: "us-iso-east-1", useDualStack: true) }
        #expect(error?.code == .invalidRequest)
    }

    @Test("invalid region names are rejected", arguments: ["", "US-EAST-1", "us east 1", "us_east_1", "us-east-1.", "evil.com/x", "ü"])
    func invalidRegion(region: String) async {
        let error = await kinesisError { _ = try KinesisEndpoint.resolve(region: region) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.retryClass == .fatal)
    }

    @Test(
        "custom URL parsing: the Host header carries the port only when it is not the default",
        arguments: [
            ("http://127.0.0.1:5123", "http", "127.0.0.1", 5123, "127.0.0.1:5123", "http://127.0.0.1:5123/"),
            ("http://127.0.0.1:5123/", "http", "127.0.0.1", 5123, "127.0.0.1:5123", "http://127.0.0.1:5123/"),
            ("https://x:443", "https", "x", 443, "x", "https://x/"),
            ("http://x:80", "http", "x", 80, "x", "http://x/"),
            ("http://x:443", "http", "x", 443, "x:443", "http://x:443/"),
            ("https://x:80", "https", "x", 80, "x:80", "https://x:80/"),
            ("https://kinesis.example.com", "https", "kinesis.example.com", nil, "kinesis.example.com", "https://kinesis.example.com/"),
            ("HTTP://localhost:4567", "http", "localhost", 4567, "localhost:4567", "http://localhost:4567/"),
            ("http://[::1]:8080", "http", "::1", 8080, "[::1]:8080", "http://[::1]:8080/"),
        ] as [(String, String, String, Int?, String, String)]
    )
    func customURL(text: String, scheme: String, host: String, port: Int?, hostHeader: String, url: String) throws {
        let endpoint = try KinesisEndpoint(url: text)
        #expect(endpoint.scheme == scheme)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.hostHeader == hostHeader)
        #expect(endpoint.url == url)
        #expect(endpoint.description == url)
    }

    @Test(
        "invalid custom URLs are rejected",
        arguments: [
            "", "not a url", "127.0.0.1:5123", "ftp://127.0.0.1:21", "http://", "http:///x", "file:///tmp/x",
            "http://127.0.0.1:5123/kinesis", "https://x/path/", "http://x:5123/a?b=c",
        ]
    )
    func invalidCustomURL(text: String) async {
        let error = await kinesisError { _ = try KinesisEndpoint(url: text) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains(text) == true)
    }
}

@Suite("KinesisClient.Configuration.resolve")
struct ConfigurationResolveTests {
    @Test("region: explicit beats AWS_REGION beats AWS_DEFAULT_REGION")
    func regionOrder() throws {
        let both = isolatedEnvironment(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"])
        #expect(try KinesisClient.Configuration.resolve(environment: both).region == "eu-west-1")
        #expect(try KinesisClient.Configuration.resolve(region: "us-west-2", environment: both).region == "us-west-2")
        let onlyDefault = isolatedEnvironment(["AWS_DEFAULT_REGION": "ap-south-1"])
        let configuration = try KinesisClient.Configuration.resolve(environment: onlyDefault)
        #expect(configuration.region == "ap-south-1")
        #expect(configuration.endpoint.url == "https://kinesis.ap-south-1.amazonaws.com/")
        // An empty AWS_REGION counts as unset.
        let emptyRegion = isolatedEnvironment(["AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"])
        #expect(try KinesisClient.Configuration.resolve(environment: emptyRegion).region == "ap-south-1")
    }

    @Test("no region anywhere is an error")
    func noRegion() {
        #expect(throws: (any Error).self) { try KinesisClient.Configuration.resolve(environment: isolatedEnvironment()) }
    }

    @Test("AWS_ENDPOINT_URL_KINESIS beats AWS_ENDPOINT_URL; an explicit endpoint beats both")
    func endpointOrder() throws {
        let environment = isolatedEnvironment([
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:5123",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9999",
        ])
        let fromService = try KinesisClient.Configuration.resolve(environment: environment)
        #expect(fromService.endpoint.hostHeader == "127.0.0.1:5123")
        #expect(fromService.region == "us-east-1")

        var general = environment
        general["AWS_ENDPOINT_URL_KINESIS"] = nil
        #expect(try KinesisClient.Configuration.resolve(environment: general).endpoint.hostHeader == "127.0.0.1:9999")

        let explicit = try KinesisClient.Configuration.resolve(endpoint: "http://127.0.0.1:4567", environment: environment)
        #expect(explicit.endpoint.hostHeader == "127.0.0.1:4567")

        // An empty service variable falls through to the general one.
        general["AWS_ENDPOINT_URL_KINESIS"] = ""
        #expect(try KinesisClient.Configuration.resolve(environment: general).endpoint.hostHeader == "127.0.0.1:9999")
    }

    @Test("a custom endpoint with FIPS or dual-stack is an error")
    func customWithVariants() async {
        let fipsFromEnvironment = isolatedEnvironment([
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:5123", "AWS_USE_FIPS_ENDPOINT": "true",
        ])
        let error = await kinesisError { _ = try KinesisClient.Configuration.resolve(environment: fipsFromEnvironment) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("http://127.0.0.1:5123") == true)

        let dualStack = await kinesisError {
            _ = try KinesisClient.Configuration.resolve(
                region: "us-east-1",
                endpoint: "http://127.0.0.1:5123",
                useDualStack: true,
                environment: isolatedEnvironment()
            )
        }
        #expect(dualStack?.code == .invalidRequest)
    }

    @Test("FIPS and dual-stack from the environment select the variant hosts")
    func variantsFromEnvironment() throws {
        let fips = isolatedEnvironment(["AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "TRUE"])
        #expect(try KinesisClient.Configuration.resolve(environment: fips).endpoint.url == "https://kinesis-fips.us-east-1.amazonaws.com/")
        let both = isolatedEnvironment([
            "AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true",
        ])
        #expect(try KinesisClient.Configuration.resolve(environment: both).endpoint.url == "https://kinesis-fips.us-east-1.api.aws/")
        // The argument overrides the environment.
        #expect(
            try KinesisClient.Configuration.resolve(useFIPS: false, useDualStack: false, environment: both).endpoint.url
                == "https://kinesis.us-east-1.amazonaws.com/"
        )
        let off = isolatedEnvironment(["AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "false"])
        #expect(try KinesisClient.Configuration.resolve(environment: off).endpoint.url == "https://kinesis.us-east-1.amazonaws.com/")
    }

    @Test("an invalid custom endpoint from the environment is an error")
    func invalidEndpointFromEnvironment() async {
        let environment = isolatedEnvironment(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5123/some/path"])
        let error = await kinesisError { _ = try KinesisClient.Configuration.resolve(environment: environment) }
        #expect(error?.code == .invalidRequest)
    }
}

@Suite("KinesisClient.Configuration.Retry")
struct RetryConfigurationTests {
    @Test("maxAttempts is at least 1")
    func clamps() {
        #expect(KinesisClient.Configuration.Retry(maxAttempts: 0).maxAttempts == 1)
        #expect(KinesisClient.Configuration.Retry(maxAttempts: -5).maxAttempts == 1)
        #expect(KinesisClient.Configuration.Retry().maxAttempts == 3)
    }
}
