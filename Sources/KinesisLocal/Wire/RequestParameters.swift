import NIOCore

/// The members of a control-plane request body, read with type checks that fail like AWS (SerializationException).
struct RequestParameters {
    private let members: [String: JSONValue]

    init(_ body: ByteBuffer) throws(AWSErrorReply) {
        if body.readableBytes == 0 {
            members = [:]
            return
        }
        do {
            members = try body.withUnsafeReadableBytes { bytes in
                var scanner = JSONScanner(bytes)
                guard case .object(let members) = try scanner.readValue() else {
                    throw JSONScanner.Failure(message: "the body is not a JSON object")
                }
                scanner.skipWhitespace()
                guard scanner.isAtEnd else { throw JSONScanner.Failure(message: "trailing bytes after the JSON object") }
                return members
            }
        } catch let error as JSONScanner.Failure {
            throw .serialization("The request body is not valid JSON: \(error.message)")
        } catch {
            throw .serialization("The request body is not valid JSON.")
        }
    }

    private init(members: [String: JSONValue]) {
        self.members = members
    }

    private func value(_ name: String) -> JSONValue? {
        if case .null = members[name] { return nil }
        return members[name]
    }

    func has(_ name: String) -> Bool { value(name) != nil }

    func string(_ name: String) throws(AWSErrorReply) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw .serialization("\(name) must be a string.") }
        return text
    }

    func int(_ name: String) throws(AWSErrorReply) -> Int? {
        guard let value = value(name) else { return nil }
        guard case .number(let number) = value, number == number.rounded(), abs(number) < 1e15 else {
            throw .serialization("\(name) must be an integer.")
        }
        return Int(number)
    }

    func double(_ name: String) throws(AWSErrorReply) -> Double? {
        guard let value = value(name) else { return nil }
        guard case .number(let number) = value else { throw .serialization("\(name) must be a number.") }
        return number
    }

    func bool(_ name: String) throws(AWSErrorReply) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw .serialization("\(name) must be a boolean.") }
        return flag
    }

    /// A list of strings (`TagKeys`, `ShardLevelMetrics`).
    func strings(_ name: String) throws(AWSErrorReply) -> [String]? {
        guard let value = value(name) else { return nil }
        guard case .array(let items) = value else { throw .serialization("\(name) must be a list of strings.") }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw .serialization("\(name) must be a list of strings.") }
            result.append(text)
        }
        return result
    }

    /// A map of strings to strings (`Tags`).
    func stringMap(_ name: String) throws(AWSErrorReply) -> [String: String]? {
        guard let value = value(name) else { return nil }
        guard case .object(let members) = value else { throw .serialization("\(name) must be a map of strings.") }
        var result: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else { throw .serialization("\(name) must be a map of strings.") }
            result[key] = text
        }
        return result
    }

    /// A member the operation requires: AWS's validation error when it is missing.
    func required<Value>(_ name: String, _ read: (String) throws(AWSErrorReply) -> Value?) throws(AWSErrorReply) -> Value {
        guard let value = try read(name) else {
            throw .validation(
                "1 validation error detected: Value null at '\(name.prefix(1).lowercased() + name.dropFirst())' failed to satisfy constraint: Member must not be null"
            )
        }
        return value
    }

    func object(_ name: String) throws(AWSErrorReply) -> RequestParameters? {
        guard let value = value(name) else { return nil }
        guard case .object(let members) = value else { throw .serialization("\(name) must be an object.") }
        return RequestParameters(members: members)
    }
}
