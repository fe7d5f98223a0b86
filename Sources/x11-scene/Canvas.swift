import CX11

/// A full-screen window (override-redirect: no window manager needed) and simple drawing on it.
final class Canvas {
    let display: OpaquePointer
    let window: Window
    let gc: GC
    let width: Int
    let height: Int

    init(display: OpaquePointer) {
        self.display = display
        var w: UInt32 = 0
        var h: UInt32 = 0
        cx11_root_size(display, &w, &h)
        width = Int(w)
        height = Int(h)
        window = Canvas.makeWindow(display, x: 0, y: 0, width: width, height: height, color: 0x20_2020)
        gc = XCreateGC(display, window, 0, nil)
    }

    static func makeWindow(_ display: OpaquePointer, x: Int, y: Int, width: Int, height: Int, color: UInt) -> Window {
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        attributes.background_pixel = color
        let window = XCreateWindow(
            display, cx11_root_window(display), Int32(x), Int32(y), UInt32(width), UInt32(height), 0,
            Int32(CopyFromParent), UInt32(InputOutput), nil, UInt(CWOverrideRedirect | CWBackPixel), &attributes)
        XMapRaised(display, window)
        return window
    }

    func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, color: UInt, on target: Window? = nil) {
        XSetForeground(display, gc, color)
        XFillRectangle(display, target ?? window, gc, Int32(x), Int32(y), UInt32(w), UInt32(h))
    }

    func text(_ string: String, x: Int, y: Int, color: UInt, on target: Window? = nil) {
        XSetForeground(display, gc, color)
        XDrawString(display, target ?? window, gc, Int32(x), Int32(y), string, Int32(string.utf8.count))
    }
}

/// One scripted scene: `draw` is called every `tick` seconds with the time since the scene started;
/// it returns an event name when the picture changed in a way tests want to know about.
protocol SceneScript {
    var tick: Double { get }
    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String?
}
