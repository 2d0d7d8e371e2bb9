import Foundation

/// `push --report json` as a script reads it: the field names are the interface (README "From the shell").
struct PushReportJSON: Decodable, Equatable {
    var sent: Int
    var delivered: Int
    var failed: Int
    var recovered: Int
    var retries: Int
    var throttled: Int
    var input_errors: Int
    var requests: Int
    var kinesis_records: Int
    var aggregated: Int
    var reaggregated: Int
    var elapsed_s: Double
    var records_per_s: Double

    /// Every documented field, and no other.
    static let fields: Set<String> = [
        "sent", "delivered", "failed", "recovered", "retries", "throttled", "input_errors", "requests",
        "kinesis_records", "aggregated", "reaggregated", "elapsed_s", "records_per_s",
    ]

    /// The whole of standard output as one JSON object: its member names and the report.
    static func parse(_ stdout: String) throws -> (fields: Set<String>, report: PushReportJSON) {
        let data = Data(stdout.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Malformed(text: stdout)
        }
        return (Set(object.keys), try JSONDecoder().decode(PushReportJSON.self, from: data))
    }

    /// The text report (`pushed N records in … s (… records/s): delivered …, requests …`), one line of
    /// standard error; `nil` when no line has that form.
    static func parseText(_ stderr: String) -> PushReportJSON? {
        let pattern = #/pushed (\d+) records in ([0-9.]+) s \((\d+) records/s\): delivered (\d+), failed (\d+), recovered (\d+), retries (\d+), throttled (\d+), input errors (\d+), requests (\d+)$/#
        for line in stderr.split(separator: "\n") {
            guard let match = try? pattern.wholeMatch(in: line) else { continue }
            let delivered = Int(match.4)!
            return PushReportJSON(
                sent: Int(match.1)!, delivered: delivered, failed: Int(match.5)!, recovered: Int(match.6)!,
                retries: Int(match.7)!, throttled: Int(match.8)!, input_errors: Int(match.9)!, requests: Int(match.10)!,
                // Printed only with aggregation: one Kinesis record per delivered record otherwise.
                kinesis_records: delivered, aggregated: 0, reaggregated: 0,
                elapsed_s: Double(match.2)!, records_per_s: Double(match.3)!
            )
        }
        return nil
    }

    struct Malformed: Error, CustomStringConvertible {
        var text: String
        var description: String { "standard output is not one JSON object: \(text)" }
    }
}
