import Glibc

/// Nanosecond clocks. Frame timing uses the monotonic clock (immune to NTP steps); wall time is read
/// once per segment to anchor the monotonic timeline to UTC.
enum MonotonicClock {
    static func now() -> Int64 { read(CLOCK_MONOTONIC) }
    static func wallNow() -> Int64 { read(CLOCK_REALTIME) }

    /// Wall time (Unix nanoseconds) at which the monotonic instant `monotonic` happened.
    static func wallTime(atMonotonic monotonic: Int64) -> Int64 {
        let wall = wallNow()
        let mono = now()
        return wall - (mono - monotonic)
    }

    /// Sleeps until the monotonic instant `deadline` (absolute), resuming early on signals.
    static func sleep(until deadline: Int64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        _ = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil)
    }

    private static func read(_ clock: clockid_t) -> Int64 {
        var value = timespec()
        clock_gettime(clock, &value)
        return Int64(value.tv_sec) * 1_000_000_000 + Int64(value.tv_nsec)
    }
}
