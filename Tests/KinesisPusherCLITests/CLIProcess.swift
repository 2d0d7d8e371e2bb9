import Foundation
import Testing
import TestSupport

/// The built `kinesis-pusher` run as a child process: standard output and error go to temporary files (never a
/// pipe that could fill up while nobody reads it), standard input comes from a file, from nothing, or from a pipe
/// the test writes to; the exit is awaited without blocking a thread, and a child that outlives its timeout is
/// killed and the test fails.
final class CLIProcess: Sendable {
    /// Where standard input comes from.
    enum Input {
        /// `/dev/null`.
        case none
        /// A file's contents.
        case file(URL)
        /// A pipe; write to it with ``CLIProcess/writeInput(_:)``, close it with ``CLIProcess/closeInput()``.
        case pipe
    }

    /// How the child ended and what it printed.
    struct Outcome: Sendable {
        /// The exit status, or the signal number when it died of a signal.
        var status: Int32
        /// Whether it died of a signal instead of exiting.
        var killedBySignal: Bool
        var stdout: String
        var stderr: String

        /// Standard error's lines, without the trailing empty one.
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }

        /// "exit 1" or "signal 15", for messages.
        var description: String { killedBySignal ? "signal \(status)" : "exit \(status)" }
    }

    /// The child's pid.
    let pid: Int32
    private let process: Process
    let stdoutURL: URL
    let stderrURL: URL
    private let directory: URL
    private let exited = ExitSignal()
    /// The write end of the input pipe (or -1), behind a lock so it is closed once.
    private let inputFD: Locked<Int32>

    /// Starts `kinesis-pusher arguments…` with exactly `environment` (nothing inherited).
    init(_ arguments: [String], environment: [String: String], input: Input = .none) throws {
        let binary = try KinesisPusherBinary.url()
        // A write into the input pipe after the child exited must fail with EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-pusher-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutURL = directory.appendingPathComponent("stdout")
        stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle

        var readEnd: Int32 = -1
        var writeEnd: Int32 = -1
        switch input {
        case .none:
            process.standardInput = FileHandle.nullDevice
        case .file(let url):
            process.standardInput = try FileHandle(forReadingFrom: url)
        case .pipe:
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            (readEnd, writeEnd) = (fds[0], fds[1])
            // Neither end leaks into this or any other child (dup2 onto the child's fd 0 clears the flag there);
            // the write end never blocks a test thread.
            _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
            process.standardInput = FileHandle(fileDescriptor: readEnd, closeOnDealloc: false)
        }
        let exited = self.exited
        process.terminationHandler = { _ in exited.fire() }
        do {
            try process.run()
        } catch {
            if readEnd >= 0 { close(readEnd); close(writeEnd) }
            throw error
        }
        // The child has its own copy; ours would keep the pipe open after the child is gone.
        if readEnd >= 0 { close(readEnd) }
        self.process = process
        self.pid = process.processIdentifier
        self.inputFD = Locked(writeEnd)
    }

    deinit {
        closeInput()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes all of `bytes` into the input pipe, waiting (off the thread) while it is full; `false` once the
    /// child closed its end (it exited). Throws after `timeout` of a pipe that stays full.
    func writeInput(_ bytes: [UInt8], timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            let fd = inputFD.value
            guard fd >= 0 else { return false }
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written >= 0 {
                offset += written
            } else if errno == EPIPE {
                return false
            } else if errno == EAGAIN || errno == EINTR {
                if ContinuousClock.now >= deadline {
                    throw Failure("the child's standard input stayed full for \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(2))
            } else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        }
        return true
    }

    /// Closes the input pipe: the child sees the end of its input.
    func closeInput() {
        inputFD.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Sends `signal` to the child (kill(2)).
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Whether the child has exited.
    var hasExited: Bool { exited.hasFired }

    /// Waits for the child to end; after `timeout` kills it (SIGKILL), records an issue and throws.
    func wait(timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation) async throws -> Outcome {
        let exited = self.exited
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await exited.wait()
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return true
            }
            let first = await group.next() ?? true
            if first, !exited.hasFired { kill(pid, SIGKILL) }
            group.cancelAll()
            return first && !exited.hasFired
        }
        // After SIGKILL the exit follows at once; the first child task above waited for it.
        closeInput()
        let outcome = Outcome(
            status: process.terminationStatus,
            killedBySignal: process.terminationReason == .uncaughtSignal,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
        if timedOut {
            Issue.record(
                "kinesis-pusher (pid \(pid)) did not exit within \(timeout); killed it. stderr:\n\(outcome.stderr)",
                sourceLocation: sourceLocation
            )
            throw Failure("kinesis-pusher did not exit within \(timeout)")
        }
        return outcome
    }

    /// Runs `kinesis-pusher arguments…` to its end.
    static func run(
        _ arguments: [String],
        environment: [String: String],
        input: Input = .none,
        timeout: Duration = .seconds(30),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Outcome {
        try await CLIProcess(arguments, environment: environment, input: input).wait(timeout: timeout, sourceLocation: sourceLocation)
    }
}

extension CLIProcess {
    /// A failure of the child-process plumbing itself.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// A one-shot event: the child exited. Waiters before and after the exit are all resumed.
private final class ExitSignal: Sendable {
    private let state = Locked<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    var hasFired: Bool { state.value.fired }

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
