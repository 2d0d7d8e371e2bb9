import AWSCredentials
import Foundation
import FuzzSupport

/// The libFuzzer test for the shared config/credentials parser. Input: the config file, a NUL byte, the credentials
/// file (without a NUL, the whole input is the config file).
///
/// Checks: profile names, keys and values are non-empty and trimmed, keys lowercase without `=`, nothing holds a
/// line break; the merge has every profile of either file, every key the credentials file sets with its value
/// there, every other key with the config file's; and (for ASCII input) writing the merged profiles out as a config
/// file and parsing that gives them back.
func fuzzSharedConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = input.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let configFile = String(decoding: parts[0], as: UTF8.self)
    let credentialsFile = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil

    let merged = AWSSharedConfiguration(configFile: configFile, credentialsFile: credentialsFile)
    let configOnly = AWSSharedConfiguration(configFile: configFile, credentialsFile: nil)
    let credentialsOnly = AWSSharedConfiguration(configFile: nil, credentialsFile: credentialsFile)
    for (name, profile) in merged.profiles {
        checkTrimmed(name, "profile name")
        check(!name.contains("]"), "profile name \(name.debugDescription) holds ]")
        for (key, value) in profile {
            checkTrimmed(key, "key")
            checkTrimmed(value, "value")
            check(key == key.lowercased(), "key \(key.debugDescription) is not lowercase")
            check(!key.contains("="), "key \(key.debugDescription) holds =")
            let expected = credentialsOnly.profiles[name]?[key] ?? configOnly.profiles[name]?[key]
            check(value == expected, "\(name).\(key) is \(value.debugDescription), expected \(String(describing: expected))")
        }
    }
    check(
        Set(merged.profiles.keys) == Set(configOnly.profiles.keys).union(credentialsOnly.profiles.keys),
        "the merge has profiles \(merged.profiles.keys.sorted()), the files \(configOnly.profiles.keys.sorted()) and \(credentialsOnly.profiles.keys.sorted())"
    )

    if input.allSatisfy({ $0 < 0x80 }) {
        let written = configText(merged.profiles)
        let reread = AWSSharedConfiguration(configFile: written, credentialsFile: nil)
        check(
            reread.profiles == merged.profiles,
            "written and parsed again:\n\(written)\ngives \(reread.profiles), expected \(merged.profiles)"
        )
    }
    return 0
}

func checkTrimmed(_ text: String, _ what: String) {
    check(!text.isEmpty, "empty \(what)")
    check(text.trimmingCharacters(in: .whitespaces) == text, "\(what) \(text.debugDescription) is not trimmed")
    check(!text.contains(where: \.isNewline), "\(what) \(text.debugDescription) holds a line break")
}

/// Profiles written as a config file; `key =value` when the value starts with a comment character, since
/// `key = #x` would make it a comment.
func configText(_ profiles: [String: AWSSharedConfiguration.Profile]) -> String {
    var text = ""
    for (name, profile) in profiles {
        text += name == "default" ? "[default]\n" : "[profile \(name)]\n"
        for (key, value) in profile {
            text += value.hasPrefix("#") || value.hasPrefix(";") ? "\(key) =\(value)\n" : "\(key) = \(value)\n"
        }
    }
    return text
}
