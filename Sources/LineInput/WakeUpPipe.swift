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

    /// Blocks the calling (non-cooperative) thread until `fileDescriptor` can be read without blocking (data, end of
    /// input, or an error to report); `false` when woken by ``signal()`` first or when `poll` fails (then `failure`
    /// holds its `errno`).
    package func waitForInput(_ fileDescriptor: Int32, failure: inout Int32) -> Bool {
        var descriptors = [
            pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            if signalled.load(ordering: .acquiring) { return false }
            let ready = poll(&descriptors, nfds_t(readEnd >= 0 ? 2 : 1), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = errno
                return false
            }
            if descriptors[1].revents != 0 { return false }
            // Readable, hung up or in error: the read that follows returns data, 0 or the error.
            if descriptors[0].revents != 0 { return true }
        }
    }
}
