import KinesisAPI

/// Client retries fast enough that a test never waits on backoff.
public let fastRetry = KinesisClient.Configuration.Retry(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
