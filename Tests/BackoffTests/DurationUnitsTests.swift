import Backoff
import Testing

@Suite("Duration in seconds and nanoseconds")
struct DurationUnitsTests {
    @Test("whole and fractional seconds, sub-nanosecond parts dropped, negative durations")
    func units() {
        #expect(Duration.seconds(3).inSeconds == 3)
        #expect(Duration.milliseconds(1_500).inSeconds == 1.5)
        #expect(abs(Duration.microseconds(250).inSeconds - 0.000_25) < 1e-15)
        #expect(Duration.milliseconds(1_500).inNanoseconds == 1_500_000_000)
        #expect((Duration.nanoseconds(7) + .init(secondsComponent: 0, attosecondsComponent: 999_999_999)).inNanoseconds == 7)
        #expect(Duration.seconds(-2).inSeconds == -2)
        #expect(Duration.milliseconds(-1).inNanoseconds == -1_000_000)
    }
}
