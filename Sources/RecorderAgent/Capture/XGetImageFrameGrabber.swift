import CX11
import Glibc

/// Captures with plain XGetImage/XGetSubImage: works on any display, including remote ones where the
/// server cannot share memory with us. Copies only the changed regions, which also saves bandwidth.
final class XGetImageFrameGrabber: FrameGrabber {
    let area: PixelRect
    let layout: PixelLayout
    let method = "xgetimage"
    private let display: X11Display
    private let image: UnsafeMutablePointer<XImage>
    private let buffer: UnsafeMutablePointer<UInt8>

    init(display: X11Display, area: PixelRect) throws {
        self.display = display
        self.area = area
        let bytesPerRow = area.width * 4
        buffer = .allocate(capacity: bytesPerRow * area.height)
        buffer.initialize(repeating: 0, count: bytesPerRow * area.height)
        let data = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: CChar.self)
        guard
            let image = XCreateImage(
                display.handle, cx11_default_visual(display.handle), UInt32(display.depth), ZPixmap, 0, data,
                UInt32(area.width), UInt32(area.height), 32, Int32(bytesPerRow))
        else {
            buffer.deallocate()
            throw CaptureError.grabFailed("XCreateImage failed for \(area)")
        }
        self.image = image
        do {
            layout = try PixelLayout.of(image)
        } catch {
            image.pointee.data = nil
            cx11_destroy_image(image)
            buffer.deallocate()
            throw error
        }
    }

    deinit {
        // XDestroyImage would free() our buffer; it belongs to us, so detach it first.
        image.pointee.data = nil
        cx11_destroy_image(image)
        buffer.deallocate()
    }

    var pixels: UnsafeMutablePointer<UInt8> { buffer }
    var bytesPerRow: Int { Int(image.pointee.bytes_per_line) }

    func grab(regions: [PixelRect]?) throws {
        let whole = PixelRect(x: 0, y: 0, width: area.width, height: area.height)
        for region in regions ?? [whole] {
            guard let clipped = region.intersection(whole) else { continue }
            let result = XGetSubImage(
                display.handle, display.root, Int32(area.x + clipped.x), Int32(area.y + clipped.y),
                UInt32(clipped.width), UInt32(clipped.height), cx11_all_planes(), ZPixmap, image,
                Int32(clipped.x), Int32(clipped.y))
            guard result != nil else {
                if display.isConnectionLost { throw CaptureError.displayLost }
                throw CaptureError.grabFailed("XGetSubImage of \(clipped) failed (X error \(display.takeLastError()))")
            }
        }
    }
}
