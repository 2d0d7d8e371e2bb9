import Foundation
import Synchronization

/// A pipe whose only use is to end a `poll(2)` from another thread: a read that waits for input in `poll` also
/// watches this pipe, and ``signal()`` (called on task cancellation) makes it return.
///
/// Once signalled it stays signalled: cancellation is final, so every later wait returns at once.
package final class WakeUpPipe: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32
    private let signalled = Atomic<Bool>(false)

    package init() {
        var ends: [Int32] = [-1, -1]
        // Without a pipe (out of descriptors) the waits still work: they poll the input alone and cannot be woken.
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    /// Wakes every current and future ``waitForInput(_:failure:)``.
    package func signal() {
        guard !signalled.exchange(true, ordering: .acquiringAndReleasing), writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// What ended a ``wait(for:timeoutMilliseconds:)``.
    package enum Wait: Equatable {
        /// The descriptor can be read without blocking (data, end of input, or an error to report).
        case ready
        /// Nothing happened within the timeout.
        case timedOut
        /// ``signal()`` was called.
        case woken
        /// `poll` failed with this `errno`.
        case failed(Int32)
    }

    /// Blocks the calling (non-cooperative) thread until `fileDescriptor` (if any) can be read, ``signal()`` is
    /// called, or `timeoutMilliseconds` pass (-1: no timeout).
    package func wait(for fileDescriptor: Int32?, timeoutMilliseconds: Int32) -> Wait {
        var descriptors = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        if let fileDescriptor { descriptors.append(pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        // Without a pipe (out of descriptors) the wait still works: it polls the input alone and cannot be woken.
        let watched = readEnd >= 0 ? descriptors[...] : descriptors[1...]
        while true {
            if signalled.load(ordering: .acquiring) { return .woken }
            var slice = Array(watched)
            let ready = poll(&slice, nfds_t(slice.count), timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if ready == 0 { return .timedOut }
            if readEnd >= 0, slice[0].revents != 0 { return .woken }
            if slice.last!.revents != 0, slice.last!.fd == fileDescriptor { return .ready }
        }
    }

    /// Blocks the calling (non-cooperative) thread until `fileDescriptor` can be read without blocking (data, end of
    /// input, or an error to report); `false` when woken by ``signal()`` first or when `poll` fails (then `failure`
    /// holds its `errno`).
    package func waitForInput(_ fileDescriptor: Int32, failure: inout Int32) -> Bool {
        switch wait(for: fileDescriptor, timeoutMilliseconds: -1) {
        case .ready: return true
        case .woken, .timedOut: return false
        case .failed(let code):
            failure = code
            return false
        }
    }
}
