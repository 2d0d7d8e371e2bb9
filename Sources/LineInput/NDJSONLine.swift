import Foundation

/// One line of `push --format ndjson` input: a JSON object, sent as is.
package enum NDJSONLine {
    /// A line that cannot be sent; the message names what is wrong.
    package struct InputError: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    /// Checks that `line` is a JSON object and returns the partition key taken from its member `field`: a string
    /// as is, any other value (number, boolean, array, object) as its description. `nil` when `field` is `nil`.
    package static func partitionKey(in line: [UInt8], field: String?) throws(InputError) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw InputError(message: "not a JSON object")
        }
        guard let field else { return nil }
        guard let value = object[field], !(value is NSNull) else {
            throw InputError(message: "field '\(field)' is missing")
        }
        return (value as? String) ?? "\(value)"
    }
}
