import Foundation
import FuzzDriver

/// Runs libFuzzer on `test` with the process's command line (corpus directories, `-max_total_time=`, …) and exits
/// with its status.
package func runFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    exit(FuzzDriverMain(CommandLine.argc, CommandLine.unsafeArgv, test))
}

/// Stops the process with `message` when an invariant does not hold; libFuzzer reports it as a crash and keeps the
/// input. (`precondition` would do the same, but a release build drops its message.)
package func check(_ condition: Bool, _ message: @autoclosure () -> String = "", file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError("check failed: \(message())", file: file, line: line) }
}
