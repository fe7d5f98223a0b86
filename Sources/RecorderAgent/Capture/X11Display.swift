import CX11
import CX11Shims
import Glibc

/// One connection to an X server, owned by the capture thread (Xlib connections are not shared).
///
/// Owns the `Display*` and closes it in `deinit`; nothing else keeps the raw pointer beyond a call.
public final class X11Display {
    public let name: String
    let handle: OpaquePointer
    public let root: Window
    public let depth: Int

    /// Opens `name` (e.g. ":99"); nil uses $DISPLAY.
    public init(name: String?) throws {
        let resolved = name ?? ProcessEnvironment.value("DISPLAY") ?? ""
        guard !resolved.isEmpty else { throw CaptureError.cannotOpenDisplay("(DISPLAY is not set)") }
        // Installed before the first request: Xlib's default handler would exit the process.
        cx11_install_error_trap()
        guard let handle = XOpenDisplay(resolved) else { throw CaptureError.cannotOpenDisplay(resolved) }
        cx11_install_io_error_exit_handler(handle)
        self.name = resolved
        self.handle = handle
        self.root = cx11_root_window(handle)
        self.depth = Int(cx11_default_depth(handle))
    }

    deinit {
        XCloseDisplay(handle)
    }

    /// The last X protocol error raised on this thread since the previous call (0 when none).
    func takeLastError() -> Int32 {
        Int32(cx11_take_last_error())
    }

    /// Waits for the server to process every request, so errors from them are known now.
    func sync() {
        XSync(handle, 0)
    }

    /// True once Xlib reported the server connection as broken.
    public var isConnectionLost: Bool { cx11_io_error_seen_flag() != 0 }

    /// Current size of the root window (changes with RandR resizes).
    public func rootSize() -> (width: Int, height: Int) {
        var width: UInt32 = 0
        var height: UInt32 = 0
        cx11_root_size(handle, &width, &height)
        return (Int(width), Int(height))
    }

    /// Whether the server offers an extension (used to choose capture strategies).
    public func hasExtension(_ extensionName: String) -> Bool {
        var opcode: Int32 = 0
        var event: Int32 = 0
        var error: Int32 = 0
        return XQueryExtension(handle, extensionName, &opcode, &event, &error) != 0
    }

    /// Asks for the events that announce a change of screen geometry.
    func watchGeometryChanges() {
        XSelectInput(handle, root, StructureNotifyMask)
        if hasExtension("RANDR") {
            XRRSelectInput(handle, root, Int32(RRScreenChangeNotifyMask))
        }
    }

    /// Drains pending events and reports whether any of them may have changed the screen geometry.
    /// Damage events are drained too: we read the damage region directly, the events only signal it.
    func drainEvents() -> Bool {
        var geometryMayHaveChanged = false
        var event = XEvent()
        while XPending(handle) > 0 {
            XNextEvent(handle, &event)
            let type = cx11_event_type(&event)
            if type == ConfigureNotify {
                geometryMayHaveChanged = true
            } else {
                // RandR's screen-change event arrives as a non-core type; let Xlib update its screen cache.
                if XRRUpdateConfiguration(&event) != 0 {
                    geometryMayHaveChanged = true
                }
            }
        }
        return geometryMayHaveChanged
    }
}

/// Reads environment variables without pulling Foundation into the capture path.
enum ProcessEnvironment {
    static func value(_ key: String) -> String? {
        guard let raw = getenv(key) else { return nil }
        return String(cString: raw)
    }
}
