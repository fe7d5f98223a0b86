/// `Duration` as the plain numbers rates, latencies and timers need.
extension Duration {
    /// Seconds with fractions (a `TimeInterval`).
    public var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
