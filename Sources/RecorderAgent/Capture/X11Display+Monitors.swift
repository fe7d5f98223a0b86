import CX11

/// A monitor as RandR 1.5 reports it, in root-window coordinates.
public struct MonitorInfo: Sendable, Equatable {
    public let name: String
    public let bounds: PixelRect
    public let isPrimary: Bool
}

extension X11Display {
    /// The monitors RandR knows (empty when the server has no RandR 1.5).
    public func monitors() -> [MonitorInfo] {
        guard hasExtension("RANDR") else { return [] }
        var count: Int32 = 0
        guard let list = XRRGetMonitors(handle, root, 1, &count) else { return [] }
        defer { XRRFreeMonitors(list) }
        var monitors: [MonitorInfo] = []
        for index in 0..<Int(count) {
            let monitor = list[index]
            var name = "monitor-\(index)"
            if let atomName = XGetAtomName(handle, monitor.name) {
                name = String(cString: atomName)
                XFree(atomName)
            }
            monitors.append(
                MonitorInfo(
                    name: name,
                    bounds: PixelRect(
                        x: Int(monitor.x), y: Int(monitor.y), width: Int(monitor.width), height: Int(monitor.height)),
                    isPrimary: monitor.primary != 0))
        }
        return monitors
    }

    /// The area to record: one named monitor, or the whole root window.
    public func captureArea(monitor name: String?) throws -> PixelRect {
        let size = rootSize()
        let screen = PixelRect(x: 0, y: 0, width: size.width, height: size.height)
        guard let name else { return screen }
        let available = monitors()
        guard let match = available.first(where: { $0.name == name }) else {
            throw CaptureError.unknownMonitor(name, available: available.map(\.name))
        }
        return match.bounds.intersection(screen) ?? screen
    }
}
