import NIOCore

extension KinesisLocal {
    /// Failures to inject into PutRecord and PutRecords, decided by a random generator seeded with ``seed`` so a
    /// run can be repeated exactly. Rates are probabilities from 0 to 1. Readable and replaceable at run time
    /// (``KinesisLocal/faults`` or `GET`/`POST /_admin/faults` as JSON with these member names).
    public struct Faults: Sendable, Hashable, Codable {
        /// Per record: fail with `InternalFailure`.
        public var recordInternalFailureRate: Double
        /// Per record: fail with `ProvisionedThroughputExceededException`.
        public var recordThrottleRate: Double
        /// Per request: answer HTTP 500 `InternalFailure`.
        public var requestInternalErrorRate: Double
        /// Per request: answer HTTP 400 `ProvisionedThroughputExceededException` for the whole request.
        public var requestThrottleRate: Double
        /// Per request: answer HTTP 400 `KMSThrottlingException`.
        public var kmsThrottlingRate: Double
        /// Per request: close the connection without answering (the records are not stored).
        public var dropConnectionRate: Double
        /// Added before every answer to a put, in milliseconds.
        public var addedLatencyMilliseconds: Int
        /// After this many requests signed with one access key, that key's requests get `ExpiredTokenException`
        /// (of every operation): fresh credentials (a new key id) work again. `nil` disables it.
        public var expiredTokenAfterRequests: Int?
        /// Per record, not random: a record whose data, read as UTF-8, is one of these always fails with
        /// `InternalFailure` (a poison record, for testing what a producer does with a record that never goes
        /// through while the records around it do).
        public var poisonRecords: [String]
        /// The generator's seed.
        public var seed: UInt64

        /// No faults.
        public init(
            recordInternalFailureRate: Double = 0,
            recordThrottleRate: Double = 0,
            requestInternalErrorRate: Double = 0,
            requestThrottleRate: Double = 0,
            kmsThrottlingRate: Double = 0,
            dropConnectionRate: Double = 0,
            addedLatencyMilliseconds: Int = 0,
            expiredTokenAfterRequests: Int? = nil,
            poisonRecords: [String] = [],
            seed: UInt64 = 1
        ) {
            self.recordInternalFailureRate = recordInternalFailureRate
            self.recordThrottleRate = recordThrottleRate
            self.requestInternalErrorRate = requestInternalErrorRate
            self.requestThrottleRate = requestThrottleRate
            self.kmsThrottlingRate = kmsThrottlingRate
            self.dropConnectionRate = dropConnectionRate
            self.addedLatencyMilliseconds = addedLatencyMilliseconds
            self.expiredTokenAfterRequests = expiredTokenAfterRequests
            self.poisonRecords = poisonRecords
            self.seed = seed
        }

        /// Members left out of the JSON keep their defaults, so `{"recordThrottleRate":0.2}` is a whole fault set.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                recordInternalFailureRate: try c.decodeIfPresent(Double.self, forKey: .recordInternalFailureRate) ?? 0,
                recordThrottleRate: try c.decodeIfPresent(Double.self, forKey: .recordThrottleRate) ?? 0,
                requestInternalErrorRate: try c.decodeIfPresent(Double.self, forKey: .requestInternalErrorRate) ?? 0,
                requestThrottleRate: try c.decodeIfPresent(Double.self, forKey: .requestThrottleRate) ?? 0,
                kmsThrottlingRate: try c.decodeIfPresent(Double.self, forKey: .kmsThrottlingRate) ?? 0,
                dropConnectionRate: try c.decodeIfPresent(Double.self, forKey: .dropConnectionRate) ?? 0,
                addedLatencyMilliseconds: try c.decodeIfPresent(Int.self, forKey: .addedLatencyMilliseconds) ?? 0,
                expiredTokenAfterRequests: try c.decodeIfPresent(Int.self, forKey: .expiredTokenAfterRequests),
                poisonRecords: try c.decodeIfPresent([String].self, forKey: .poisonRecords) ?? [],
                seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
            )
        }
    }
}

extension KinesisLocal.Faults {
    /// The largest added latency `POST /_admin/faults` and `local --latency-ms` take: one hour.
    public static let maxAddedLatencyMilliseconds = 3_600_000

    /// Why these faults cannot be put in force, or `nil` when they can.
    var problem: String? {
        let rates = [
            ("recordInternalFailureRate", recordInternalFailureRate), ("recordThrottleRate", recordThrottleRate),
            ("requestInternalErrorRate", requestInternalErrorRate), ("requestThrottleRate", requestThrottleRate),
            ("kmsThrottlingRate", kmsThrottlingRate), ("dropConnectionRate", dropConnectionRate),
        ]
        if let (name, rate) = rates.first(where: { !(0...1).contains($0.1) }) {
            return "\(name) must be a share between 0 and 1; got \(rate)"
        }
        guard (0...Self.maxAddedLatencyMilliseconds).contains(addedLatencyMilliseconds) else {
            return "addedLatencyMilliseconds must be 0 to \(Self.maxAddedLatencyMilliseconds); got \(addedLatencyMilliseconds)"
        }
        return nil
    }

    /// The delay before an answer to a put, `nil` for none.
    var putDelay: TimeAmount? {
        addedLatencyMilliseconds > 0 ? .milliseconds(Int64(addedLatencyMilliseconds)) : nil
    }
}
