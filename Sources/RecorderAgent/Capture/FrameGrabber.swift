import CX11

/// Byte order of a captured 32-bit pixel in memory, as libyuv names it.
public enum PixelLayout: Sendable {
    /// Memory order B, G, R, X (libyuv "ARGB"): the usual little-endian TrueColor layout.
    case bgrx
    /// Memory order R, G, B, X (libyuv "ABGR").
    case rgbx

    /// Derives the layout from an XImage's format, rejecting what we cannot convert.
    static func of(_ image: UnsafeMutablePointer<XImage>) throws -> PixelLayout {
        let format = image.pointee
        guard format.bits_per_pixel == 32 else {
            throw CaptureError.unsupportedPixelFormat("\(format.bits_per_pixel) bits per pixel")
        }
        guard format.byte_order == LSBFirst else {
            throw CaptureError.unsupportedPixelFormat("big-endian (MSBFirst) pixels")
        }
        switch (format.red_mask, format.green_mask, format.blue_mask) {
        case (0xFF0000, 0xFF00, 0xFF): return .bgrx
        case (0xFF, 0xFF00, 0xFF0000): return .rgbx
        default:
            throw CaptureError.unsupportedPixelFormat(
                "channel masks r=0x\(String(format.red_mask, radix: 16)) g=0x\(String(format.green_mask, radix: 16)) b=0x\(String(format.blue_mask, radix: 16))"
            )
        }
    }
}

/// Copies the screen area into a 32-bit pixel buffer that stays valid until the grabber is released.
public protocol FrameGrabber: AnyObject {
    /// The captured area in root-window coordinates.
    var area: PixelRect { get }
    /// First pixel of the buffer (row-major, `bytesPerRow` apart).
    var pixels: UnsafeMutablePointer<UInt8> { get }
    var bytesPerRow: Int { get }
    var layout: PixelLayout { get }
    /// Short name for logs and `status` ("xshm" or "xgetimage").
    var method: String { get }
    /// Refreshes the buffer; `regions` (area coordinates) limits the copy when the method can use it.
    func grab(regions: [PixelRect]?) throws
}
