import CX11

/// Draws the pointer into captured frames (X servers leave it out of GetImage) and reports where it
/// moved, because pointer motion produces no damage.
final class CursorOverlay {
    private let display: X11Display
    private var pixels: [UInt32] = []
    /// Current cursor rectangle in root coordinates.
    private var bounds: PixelRect?
    private var serial: UInt = 0

    /// Nil when the server lacks XFIXES (no way to read the cursor image).
    init?(display: X11Display) {
        var eventBase: Int32 = 0
        var errorBase: Int32 = 0
        guard XFixesQueryExtension(display.handle, &eventBase, &errorBase) != 0 else { return nil }
        self.display = display
    }

    /// Reads the pointer position and image; returns the areas (area coordinates) whose picture changed.
    func refresh(area: PixelRect) -> [PixelRect] {
        guard let image = XFixesGetCursorImage(display.handle) else { return [] }
        defer { XFree(image) }
        let cursor = image.pointee
        let newBounds = PixelRect(
            x: Int(cursor.x) - Int(cursor.xhot), y: Int(cursor.y) - Int(cursor.yhot), width: Int(cursor.width),
            height: Int(cursor.height))
        let imageChanged = cursor.cursor_serial != serial || pixels.count != newBounds.area
        guard imageChanged || newBounds != bounds else { return [] }

        if imageChanged {
            pixels = (0..<newBounds.area).map { cx11_cursor_pixel(image, Int32($0)) }
            serial = cursor.cursor_serial
        }
        var changed: [PixelRect] = []
        for rect in [bounds, newBounds].compactMap({ $0 }) {
            if let clipped = rect.intersection(area) {
                changed.append(clipped.offsetBy(dx: -area.x, dy: -area.y))
            }
        }
        bounds = newBounds
        return changed
    }

    /// Alpha-blends the cursor (premultiplied ARGB) over the frame held by `grabber`.
    func draw(into grabber: FrameGrabber) {
        guard let bounds, let visible = bounds.intersection(grabber.area) else { return }
        let (redOffset, blueOffset) = grabber.layout == .bgrx ? (2, 0) : (0, 2)
        for row in visible.y..<visible.maxY {
            let line = grabber.pixels + (row - grabber.area.y) * grabber.bytesPerRow
            for column in visible.x..<visible.maxX {
                let argb = pixels[(row - bounds.y) * bounds.width + (column - bounds.x)]
                let alpha = argb >> 24
                guard alpha != 0 else { continue }
                let pixel = line + (column - grabber.area.x) * 4
                let inverse = 255 - alpha
                pixel[redOffset] = blend(argb >> 16 & 0xFF, over: pixel[redOffset], inverseAlpha: inverse)
                pixel[1] = blend(argb >> 8 & 0xFF, over: pixel[1], inverseAlpha: inverse)
                pixel[blueOffset] = blend(argb & 0xFF, over: pixel[blueOffset], inverseAlpha: inverse)
            }
        }
    }

    /// Premultiplied "over"; clamped because a malformed cursor image could exceed 255.
    private func blend(_ source: UInt32, over destination: UInt8, inverseAlpha: UInt32) -> UInt8 {
        UInt8(min(255, source + (UInt32(destination) * inverseAlpha + 127) / 255))
    }
}
