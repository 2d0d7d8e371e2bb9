import Foundation

/// Renders a command's report as stable, readable JSON (sorted keys) for scripts.
func jsonReport(_ report: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(report), as: UTF8.self)
}
