import Foundation

/// The process environment, read once per call; providers take an environment dictionary so tests can pass their own.
public enum ProcessEnvironment {
    /// The current process's environment variables.
    public static var current: [String: String] { ProcessInfo.processInfo.environment }
}

extension Dictionary where Key == String, Value == String {
    /// The value of a variable, treating an empty string as unset.
    func nonEmpty(_ name: String) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return value
    }

    /// A boolean variable: `true` (any case) is true, anything else false.
    func flag(_ name: String) -> Bool {
        self[name]?.lowercased() == "true"
    }
}
