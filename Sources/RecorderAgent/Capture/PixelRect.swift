/// A rectangle of pixels in some coordinate space (root window or captured area).
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var area: Int { isEmpty ? 0 : width * height }
    public var description: String { "\(width)x\(height)+\(x)+\(y)" }

    public func intersection(_ other: PixelRect) -> PixelRect? {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(maxX, other.maxX)
        let bottom = min(maxY, other.maxY)
        guard right > left, bottom > top else { return nil }
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }

    public func union(_ other: PixelRect) -> PixelRect {
        let left = min(x, other.x)
        let top = min(y, other.y)
        return PixelRect(x: left, y: top, width: max(maxX, other.maxX) - left, height: max(maxY, other.maxY) - top)
    }

    public func offsetBy(dx: Int, dy: Int) -> PixelRect {
        PixelRect(x: x + dx, y: y + dy, width: width, height: height)
    }

    /// Grows the rectangle outward to multiples of `unit` (macroblocks), clipped to `bounds`.
    public func aligned(to unit: Int, within bounds: PixelRect) -> PixelRect {
        let left = (x / unit) * unit
        let top = (y / unit) * unit
        let right = ((maxX + unit - 1) / unit) * unit
        let bottom = ((maxY + unit - 1) / unit) * unit
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top).intersection(bounds)
            ?? PixelRect(x: 0, y: 0, width: 0, height: 0)
    }
}
