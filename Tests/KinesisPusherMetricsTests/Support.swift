import AWSCredentials
import AsyncHTTPClient
import AWSSigning
import Foundation
import KinesisLocal
import KinesisPusher
import KinesisPusherPrometheus
import Metrics
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// The metrics tests' runner settings: quicker retries than `makeRunner`'s, and no client-side pacing (their
/// servers have no limits).
func unpaced(_ configuration: inout RunnerConfiguration) {
    configuration.retry.baseDelay = .milliseconds(5)
    configuration.retry.maxDelay = .milliseconds(50)
    configuration.pacing.rateLimitPercent = nil
}

// MARK: - The Prometheus text exposition, parsed

/// A parsed text exposition (format 0.0.4): families with HELP, TYPE and samples.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var labelNames: [String]
        var value: Double
    }

    struct Family {
        var name: String
        var help: String?
        var type: String?
        var samples: [Sample] = []
    }

    var families: [String: Family] = [:]
    /// Problems found while parsing (malformed lines, samples without a family, duplicate HELP or TYPE).
    var problems: [String] = []

    init(_ bytes: [UInt8]) {
        self.init(String(decoding: bytes, as: UTF8.self))
    }

    init(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                let rest = parts.count > 1 ? String(parts[1]) : ""
                var family = families[name] ?? Family(name: name)
                if line.hasPrefix("# HELP ") {
                    if family.help != nil { problems.append("second HELP for \(name)") }
                    family.help = rest
                } else {
                    if family.type != nil { problems.append("second TYPE for \(name)") }
                    family.type = rest
                }
                families[name] = family
            } else if line.hasPrefix("#") {
                continue
            } else if let sample = Self.parseSample(line) {
                guard let family = familyName(of: sample.name) else {
                    problems.append("sample without a family: \(line)")
                    continue
                }
                families[family]!.samples.append(sample)
            } else {
                problems.append("malformed line: \(line)")
            }
        }
    }

    /// The family a sample belongs to: its own name, or a histogram's or summary's name for `_bucket`, `_sum`, `_count`.
    private func familyName(of sample: String) -> String? {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if families[base] != nil { return base }
        }
        return nil
    }

    private static func parseSample(_ line: Substring) -> Sample? {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[line.startIndex..<index])
        guard !name.isEmpty, index < line.endIndex else { return nil }
        var labels: [String: String] = [:]
        var labelNames: [String] = []
        if line[index] == "{" {
            index = line.index(after: index)
            while index < line.endIndex, line[index] != "}" {
                var labelName = ""
                while index < line.endIndex, line[index] != "=" {
                    labelName.append(line[index])
                    index = line.index(after: index)
                }
                // ="
                guard index < line.endIndex else { return nil }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { return nil }
                index = line.index(after: index)
                var value = ""
                while index < line.endIndex, line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { return nil }
                        value.append(line[index] == "n" ? "\n" : line[index])
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                guard index < line.endIndex else { return nil }
                index = line.index(after: index)  // closing quote
                if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
                labels[labelName] = value
                labelNames.append(labelName)
            }
            guard index < line.endIndex else { return nil }
            index = line.index(after: index)  // }
        }
        let valueText = line[index...].trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
        let value: Double?
        switch valueText {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(valueText)
        }
        guard let value else { return nil }
        return Sample(name: name, labels: labels, labelNames: labelNames, value: value)
    }

    /// The value of the sample `name` whose labels include `labels`, summed over the rest.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = families.values.flatMap(\.samples).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    func count(_ name: String, _ labels: [String: String] = [:]) -> Int {
        Int(value(name, labels) ?? -1)
    }
}

// MARK: - promtool

/// The promtool named by `PROMTOOL`, when it is an executable.
var promtool: String? {
    guard let path = ProcessInfo.processInfo.environment["PROMTOOL"], FileManager.default.isExecutableFile(atPath: path) else {
        return nil
    }
    return path
}

/// `promtool check metrics` must accept `exposition`. Without `PROMTOOL` the check is skipped, except in CI, where
/// a missing promtool is a failure (`.ci/run` installs it).
func expectPromtoolAccepts(_ exposition: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let promtool else {
        if TestEnvironment.isCI { Issue.record("PROMTOOL is not set: CI must check the exposition with promtool", sourceLocation: sourceLocation) }
        return
    }
    let check = try promtoolCheck(promtool, exposition)
    #expect(check.status == 0, "promtool check metrics: \(check.output)", sourceLocation: sourceLocation)
}

/// Runs `promtool check metrics` with `exposition` on stdin; returns its exit status and output.
func promtoolCheck(_ promtool: String, _ exposition: [UInt8]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    // Write on another thread while reading, so neither side can block on a full pipe.
    let writer = Thread {
        try? input.fileHandleForWriting.write(contentsOf: Data(exposition))
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

// MARK: - HTTP against a MetricsServer

/// Basic credentials as an `Authorization` value.
func basic(_ user: String, _ password: String) -> String {
    "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
}

struct HTTPAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// `method path` on 127.0.0.1:`port`, with `authorization` as the `Authorization` header when given.
func request(
    _ client: HTTPClient,
    port: Int,
    path: String = "/metrics",
    method: HTTPMethod = .GET,
    authorization: String? = nil
) async throws -> HTTPAnswer {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = method
    if let authorization { request.headers.add(name: "Authorization", value: authorization) }
    let response = try await client.execute(request, timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 4 << 20)
    return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
}

