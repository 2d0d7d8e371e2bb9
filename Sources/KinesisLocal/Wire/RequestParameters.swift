import Foundation
import NIOCore

/// The members of a control-plane request body, read with type checks that fail like AWS (SerializationException).
struct RequestParameters {
    private let members: [String: Any]

    init(_ body: ByteBuffer) throws(AWSErrorReply) {
        if body.readableBytes == 0 {
            members = [:]
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)),
            let dictionary = object as? [String: Any]
        else {
            throw .serialization("The request body is not a JSON object.")
        }
        members = dictionary
    }

    func has(_ name: String) -> Bool { members[name] != nil && !(members[name] is NSNull) }

    func string(_ name: String) throws(AWSErrorReply) -> String? {
        guard let value = members[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw .serialization("\(name) must be a string.") }
        return text
    }

    func int(_ name: String) throws(AWSErrorReply) -> Int? {
        guard let value = members[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !(value is Bool), number.doubleValue == number.doubleValue.rounded() else {
            throw .serialization("\(name) must be an integer.")
        }
        return number.intValue
    }

    func double(_ name: String) throws(AWSErrorReply) -> Double? {
        guard let value = members[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber else { throw .serialization("\(name) must be a number.") }
        return number.doubleValue
    }

    func object(_ name: String) throws(AWSErrorReply) -> RequestParameters? {
        guard let value = members[name], !(value is NSNull) else { return nil }
        guard let dictionary = value as? [String: Any] else { throw .serialization("\(name) must be an object.") }
        return RequestParameters(members: dictionary)
    }

    private init(members: [String: Any]) {
        self.members = members
    }
}
