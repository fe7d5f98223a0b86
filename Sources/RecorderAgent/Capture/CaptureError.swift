/// Why the screen cannot be captured, phrased for the person who has to fix it.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotOpenDisplay, unsupportedPixelFormat, unknownMonitor, sharedMemory, grabFailed, displayLost
    }
    private let code: Code
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    public static func cannotOpenDisplay(_ name: String) -> Self {
        .init(
            .cannotOpenDisplay,
            "cannot open X display \"\(name)\": check that the X server is running, that DISPLAY is right and that this user may connect (xhost/XAUTHORITY)"
        )
    }
    public static func unsupportedPixelFormat(_ detail: String) -> Self {
        .init(
            .unsupportedPixelFormat,
            "unsupported pixel format: \(detail); the recorder needs a 24- or 32-bit TrueColor display")
    }
    public static func unknownMonitor(_ name: String, available: [String]) -> Self {
        .init(
            .unknownMonitor,
            "no monitor named \"\(name)\" on this display; available monitors: \(available.isEmpty ? "none reported by RandR" : available.joined(separator: ", "))"
        )
    }
    public static func sharedMemory(_ detail: String) -> Self {
        .init(.sharedMemory, "MIT-SHM capture unavailable: \(detail)")
    }
    public static func grabFailed(_ detail: String) -> Self {
        .init(.grabFailed, "screen grab failed: \(detail)")
    }
    public static let displayLost = CaptureError(.displayLost, "the connection to the X server was lost")

    /// A grab can fail because the screen shrank between our geometry check and the request (BadMatch);
    /// the recording loop then re-checks the geometry before giving up.
    public var isGrabFailure: Bool { code == .grabFailed }
}
