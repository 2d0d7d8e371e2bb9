import ArgumentParser

/// A duration on the command line: `100ms`, `2s`, `1.5s`, `5m`, `250us`; a bare number means seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var duration: Duration
    /// As written, for `--help`'s defaults ("100ms" rather than "0.1 seconds").
    var text: String

    init?(argument: String) {
        text = argument
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1), ("m", 60), ("h", 3600)]
        var number = argument
        var scale = 1.0
        for (suffix, value) in units where argument.hasSuffix(suffix) {
            number = String(argument.dropLast(suffix.count))
            scale = value
            break
        }
        // Not a trap on `1e30s` or `inf`: nanoseconds past Int64 are refused like any other bad text.
        guard let value = Double(number), value >= 0, value * scale * 1e9 < Double(Int64.max) else { return nil }
        duration = .nanoseconds(Int64(value * scale * 1e9))
    }

    var defaultValueDescription: String { text }
}

/// A record TTL: a duration, or `never`.
struct TTLArgument: ExpressibleByArgument, Sendable {
    var duration: Duration?
    /// As written, for `--help`'s defaults.
    var text: String

    init?(argument: String) {
        text = argument
        if argument == "never" || argument == "none" {
            duration = nil
        } else if let parsed = DurationArgument(argument: argument) {
            duration = parsed.duration
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { text }
}
