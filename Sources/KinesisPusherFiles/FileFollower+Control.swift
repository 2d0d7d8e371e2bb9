import LineInput
import Synchronization

/// How a ``FileFollower``'s reader is told to stop or to give up, from any thread: a flag to read, and a wake-up of
/// its wait.
final class FollowerControl: Sendable {
    enum Stop: UInt8 {
        case none, atEnd, nowWithoutPartialLine, now
    }

    let wakeUp = WakeUpPipe()
    private let stopRequest = Atomic<UInt8>(Stop.none.rawValue)
    private let cancelled = Atomic<Bool>(false)
    private let reopenRequest = Atomic<Bool>(false)

    /// The strongest stop asked for so far (a stop `.now` is not weakened by a later `.atEnd`).
    var stop: Stop { Stop(rawValue: stopRequest.load(ordering: .acquiring)) ?? .none }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func request(_ stop: Stop) {
        _ = stopRequest.max(stop.rawValue, ordering: .acquiringAndReleasing)
        wakeUp.signal()
    }

    func requestReopen() {
        reopenRequest.store(true, ordering: .releasing)
        wakeUp.signal()
    }

    /// Whether a reopen was asked for since the last call.
    func takeReopenRequest() -> Bool {
        reopenRequest.exchange(false, ordering: .acquiringAndReleasing)
    }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        wakeUp.signal()
    }
}
