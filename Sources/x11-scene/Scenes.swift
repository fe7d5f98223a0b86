import CX11
import Foundation

/// Test pattern: state k holds for `period` seconds. Rectangle A (200x150 at 40,40) takes colour
/// `palette[k % 4]`; white square B (120x120) sits at x = 300 + 100·(k % 5), y = 250.
final class RectanglesScene: SceneScript {
    static let palette: [UInt] = [0xFF_0000, 0x00_FF00, 0x00_00FF, 0xFF_FF00]
    let period: Double
    let tick = 0.02
    private var state = -1

    init(period: Double) { self.period = period }

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        let current = Int(elapsed / period)
        guard current != state else { return nil }
        let previous = state
        state = current
        if previous >= 0 {
            canvas.fill(300 + 100 * (previous % 5), 250, 120, 120, color: 0x20_2020)
        }
        canvas.fill(40, 40, 200, 150, color: RectanglesScene.palette[current % 4])
        canvas.fill(300 + 100 * (current % 5), 250, 120, 120, color: 0xFF_FFFF)
        return "state-\(current)"
    }
}

/// A static desktop: drawn once, then nothing changes (what an agent's screen does most of a call).
final class IdleScene: SceneScript {
    let tick = 0.5
    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        guard frame == 0 else { return nil }
        canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
        canvas.text("Contact center desktop", x: 10, y: 18, color: 0xFF_FFFF)
        canvas.fill(80, 80, 700, 500, color: 0xEE_EEEE)
        for line in 0..<20 {
            canvas.text(
                "Customer record field \(line): value \(line * 37 % 101)", x: 100, y: 110 + line * 20, color: 0x11_1111)
        }
        return "drawn"
    }
}

/// Office work: a CRM form being typed into, a log pane scrolling one line a second, and a small
/// window dragged across the screen, all at 10 updates per second (timed by the frame counter, so
/// every run draws the same sequence).
final class OfficeScene: SceneScript {
    let tick = 0.1
    private var movingWindow: Window?
    private let sentence = "Customer reports that the invoice for October was charged twice; refund requested. "

    /// Every 10 s the scene holds still for 1.5 s ("checkpoint-N"): benchmarks take a lossless
    /// reference screenshot then and compare each recorder's picture against it.
    private var checkpoint = -1

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        let cycle = elapsed.truncatingRemainder(dividingBy: 10)
        if elapsed > 1, cycle >= 8.5 {
            let index = Int(elapsed / 10)
            guard index != checkpoint else { return nil }
            checkpoint = index
            return "checkpoint-\(index)"
        }
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("CRM - Case 4711", x: 10, y: 18, color: 0xFF_FFFF)
            canvas.fill(40, 60, 900, 400, color: 0xFA_FAFA)
            canvas.fill(980, 60, max(100, canvas.width - 1020), 700, color: 0x10_1820)
            movingWindow = Canvas.makeWindow(canvas.display, x: 40, y: 520, width: 320, height: 200, color: 0x44_88CC)
        }
        // Typing: one more character per tick, wrapping into lines of 100 characters.
        let typed = frame % 1200
        let line = typed / 100
        let column = typed % 100
        if column == 0 { canvas.fill(60, 80 + line * 18, 860, 18, color: 0xFA_FAFA) }
        let character = Array(sentence)[typed % sentence.count]
        canvas.text(String(character), x: 60 + column * 8, y: 94 + (line % 20) * 18, color: 0x00_0000)
        // Scrolling log: every 10 ticks copy the pane up one line and write a new line at the bottom.
        if frame % 10 == 0 {
            let paneX = 980
            let paneWidth = max(100, canvas.width - 1020)
            XCopyArea(
                canvas.display, canvas.window, canvas.window, canvas.gc, Int32(paneX), 78, UInt32(paneWidth), 680,
                Int32(paneX), 60)
            canvas.fill(paneX, 740, paneWidth, 20, color: 0x10_1820)
            canvas.text(
                String(format: "%06d INFO call event queue=sales agent=a%03d", frame, frame % 97), x: paneX + 8, y: 754,
                color: 0x7F_FF7F)
        }
        // A window dragged back and forth across the lower half.
        if let movingWindow {
            let travel = max(1, canvas.width - 400)
            let position = Int(Double(frame % 200) / 200 * Double(travel))
            XMoveWindow(canvas.display, movingWindow, Int32(20 + position), 560)
        }
        return nil
    }
}

/// The demo: a bouncing box and a clock, so the recording is obviously alive.
final class DemoScene: SceneScript {
    let tick = 0.1
    private var lastBox: (Int, Int)?

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("screen recorder demo", x: 10, y: 18, color: 0xFF_FFFF)
        }
        if let (x, y) = lastBox { canvas.fill(x, y, 80, 80, color: 0x20_2020) }
        let span = max(1, canvas.width - 80)
        let phase = Int(elapsed * 200) % (2 * span)
        let x = phase < span ? phase : 2 * span - phase
        let y = 100 + Int(100 * sin(elapsed))
        canvas.fill(x, y, 80, 80, color: RectanglesScene.palette[Int(elapsed) % 4])
        lastBox = (x, y)
        canvas.fill(canvas.width - 200, 4, 190, 20, color: 0x33_4455)
        canvas.text(String(format: "t = %6.1f s", elapsed), x: canvas.width - 190, y: 18, color: 0xFF_FF00)
        return nil
    }
}

/// The worst case for an encoder: every 4×4 block of the screen takes a new pseudo-random grey on
/// every tick (a video playing full-screen). Deterministic (a fixed LCG), so runs compare.
final class NoiseScene: SceneScript {
    let tick = 0.1
    private var state: UInt32 = 0x1234_5678

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        for y in stride(from: 0, to: canvas.height, by: 4) {
            for x in stride(from: 0, to: canvas.width, by: 4) {
                state = state &* 1_664_525 &+ 1_013_904_223
                let grey = UInt(state >> 24)
                canvas.fill(x, y, 4, 4, color: grey << 16 | grey << 8 | grey)
            }
        }
        return frame == 0 ? "noise" : nil
    }
}
