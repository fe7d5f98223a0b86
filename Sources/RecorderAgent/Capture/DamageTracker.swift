import CX11

/// Tells which parts of the screen changed since the last look, using the X DAMAGE extension, so an
/// idle desktop costs one small round trip per tick instead of a grab and an encode.
final class DamageTracker {
    private let display: X11Display
    private let damage: Damage
    private let region: XserverRegion

    /// Nil when the server lacks DAMAGE or XFIXES; the recorder then treats every tick as a change.
    init?(display: X11Display) {
        var eventBase: Int32 = 0
        var errorBase: Int32 = 0
        guard XDamageQueryExtension(display.handle, &eventBase, &errorBase) != 0,
            XFixesQueryExtension(display.handle, &eventBase, &errorBase) != 0
        else { return nil }
        self.display = display
        // NonEmpty: one event when damage appears; we read the region ourselves at each tick.
        damage = XDamageCreate(display.handle, display.root, Int32(XDamageReportNonEmpty))
        region = XFixesCreateRegion(display.handle, nil, 0)
    }

    deinit {
        XDamageDestroy(display.handle, damage)
        XFixesDestroyRegion(display.handle, region)
    }

    /// Takes (and clears) the accumulated damage, clipped to `area` and translated into its coordinates.
    func takeChanges(within area: PixelRect) -> [PixelRect] {
        XDamageSubtract(display.handle, damage, 0, region)
        var count: Int32 = 0
        guard let rectangles = XFixesFetchRegion(display.handle, region, &count) else { return [] }
        defer { XFree(rectangles) }
        var changes: [PixelRect] = []
        changes.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let rectangle = rectangles[index]
            let rect = PixelRect(
                x: Int(rectangle.x), y: Int(rectangle.y), width: Int(rectangle.width), height: Int(rectangle.height))
            if let clipped = rect.intersection(area) {
                changes.append(clipped.offsetBy(dx: -area.x, dy: -area.y))
            }
        }
        return changes
    }
}
