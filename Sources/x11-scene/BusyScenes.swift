import CX11
import Foundation

/// Busy scenes: what an agent's desktop does while a customer talks (benchmarks/capture_vs_ffmpeg.py).
/// Each is timed by the frame counter, so every run draws the same sequence, and holds still for
/// 1.5 s of every 10 s ("checkpoint-N") while the benchmark takes a lossless reference screenshot.
struct CheckpointSchedule {
    private var last = -1

    /// The event to announce when the scene enters its hold, nil otherwise; `holding` says whether to draw.
    mutating func check(elapsed: Double) -> (holding: Bool, event: String?) {
        guard elapsed > 1, elapsed.truncatingRemainder(dividingBy: 10) >= 8.5 else { return (false, nil) }
        let index = Int(elapsed / 10)
        guard index != last else { return (true, nil) }
        last = index
        return (true, "checkpoint-\(index)")
    }
}

/// A terminal filling most of the screen prints 20 lines a second (a build log, `journalctl -f`):
/// every line scrolls the whole text area up by one line, so almost every pixel of it changes on
/// every tick while the picture only moves.
final class TerminalScene: SceneScript {
    let tick = 0.05
    private var schedule = CheckpointSchedule()
    private var printed = 0
    private let area = (x: 100, y: 80, width: 1400, height: 900)
    private let lineHeight = 15

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("Terminal - make -j2", x: 10, y: 18, color: 0xFF_FFFF)
            canvas.fill(area.x, area.y, area.width, area.height, color: 0x00_0000)
        }
        let (holding, event) = schedule.check(elapsed: elapsed)
        if holding { return event }
        let bottom = area.y + area.height - lineHeight
        XCopyArea(
            canvas.display, canvas.window, canvas.window, canvas.gc, Int32(area.x), Int32(area.y + lineHeight),
            UInt32(area.width), UInt32(area.height - lineHeight), Int32(area.x), Int32(area.y))
        canvas.fill(area.x, bottom, area.width, lineHeight, color: 0x00_0000)
        let line = String(
            format: "[%5d/9999] CC src/module%03d/file%04d.o -O2 -Wall -Isrc/include -c src/module%03d/file%04d.c",
            printed, printed % 251, printed * 7 % 9973, printed % 251, printed * 7 % 9973)
        canvas.text(line, x: area.x + 6, y: bottom + 12, color: printed % 13 == 0 ? 0xFF_FF55 : 0xCC_CCCC)
        printed += 1
        return nil
    }
}

/// Typing into a CRM form: 8 characters a second into one field after another, a blinking caret,
/// and the field's highlight moving on at every tab. Small changes, all the time.
final class TypingScene: SceneScript {
    let tick = 0.125
    private var schedule = CheckpointSchedule()
    private let words = Array(
        "Caller confirms the new delivery address and asks for the refund to go to the card ending 4242. ")
    private let fields = 12
    private let charactersPerField = 60
    private var typed = 0

    private func fieldOrigin(_ index: Int) -> (x: Int, y: Int) { (x: 420, y: 120 + index * 60) }

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("CRM - New case", x: 10, y: 18, color: 0xFF_FFFF)
            canvas.fill(200, 80, 1000, 780, color: 0xF4_F4F4)
            for index in 0..<fields { drawField(index, on: canvas, focused: false) }
        }
        let (holding, event) = schedule.check(elapsed: elapsed)
        if holding { return event }
        let field = (typed / charactersPerField) % fields
        let column = typed % charactersPerField
        let origin = fieldOrigin(field)
        if column == 0 {
            drawField((field + fields - 1) % fields, on: canvas, focused: false)
            drawField(field, on: canvas, focused: true)
        }
        canvas.fill(origin.x + 8 + column * 8, origin.y + 8, 10, 18, color: 0xFF_FFFF)
        canvas.text(String(words[typed % words.count]), x: origin.x + 8 + column * 8, y: origin.y + 22, color: 0x00_0000)
        // The caret, blinking twice a second just after the last character.
        let caretOn = frame % 4 < 2
        canvas.fill(origin.x + 16 + column * 8, origin.y + 8, 2, 18, color: caretOn ? 0x00_0000 : 0xFF_FFFF)
        typed += 1
        return nil
    }

    private func drawField(_ index: Int, on canvas: Canvas, focused: Bool) {
        let origin = fieldOrigin(index)
        canvas.text("Field \(index + 1)", x: 230, y: origin.y + 22, color: 0x22_2222)
        canvas.fill(origin.x - 2, origin.y - 2, 504, 34, color: focused ? 0x33_88FF : 0xBB_BBBB)
        // Empty again each round: the form was submitted and a new case begun.
        canvas.fill(origin.x, origin.y, 500, 30, color: 0xFF_FFFF)
    }
}

/// A window full of text dragged across the screen and back at 25 moves a second (an agent
/// moving the softphone window out of the way): a large area moves, the rest is re-exposed.
final class DragScene: SceneScript {
    let tick = 0.04
    private var schedule = CheckpointSchedule()
    private var window: Window?

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("Desktop", x: 10, y: 18, color: 0xFF_FFFF)
            for line in 0..<48 {
                canvas.text(
                    "Knowledge base article \(line): how to reset a customer's password and verify identity",
                    x: 40, y: 60 + line * 20, color: 0xC0_C0C0)
            }
            let dragged = Canvas.makeWindow(canvas.display, x: 100, y: 200, width: 640, height: 420, color: 0xF0_F0F0)
            window = dragged
            XSync(canvas.display, 0)
            canvas.fill(0, 0, 640, 24, color: 0x22_66AA, on: dragged)
            canvas.text("Softphone - on call 02:14", x: 8, y: 16, color: 0xFF_FFFF, on: dragged)
            for line in 0..<18 {
                canvas.text(
                    "Contact \(line): +49 30 5550\(100 + line)  last call 2026-11-\(10 + line)", x: 12,
                    y: 48 + line * 20, color: 0x10_1010, on: dragged)
            }
        }
        let (holding, event) = schedule.check(elapsed: elapsed)
        if holding { return event }
        guard let window else { return nil }
        // Back and forth along a diagonal, 200 moves each way.
        let step = frame % 400
        let progress = Double(step < 200 ? step : 400 - step) / 200
        XMoveWindow(
            canvas.display, window, Int32(100 + progress * Double(canvas.width - 840)),
            Int32(200 + progress * Double(max(0, canvas.height - 720))))
        return nil
    }
}

/// A training video playing in a corner (480×270 at 25 frames a second): smooth colour gradients
/// moving every frame, drawn with XPutImage, beside a static CRM page.
final class VideoScene: SceneScript {
    let tick = 0.04
    private var schedule = CheckpointSchedule()
    private let size = (width: 480, height: 270)
    private var pixels: [UInt32]
    private var image: UnsafeMutablePointer<XImage>?

    init() { pixels = Array(repeating: 0, count: 480 * 270) }

    func draw(on canvas: Canvas, elapsed: Double, frame: Int) -> String? {
        if frame == 0 {
            canvas.fill(0, 0, canvas.width, 28, color: 0x33_4455)
            canvas.text("CRM - Training", x: 10, y: 18, color: 0xFF_FFFF)
            canvas.fill(40, 60, 1000, 700, color: 0xFA_FAFA)
            for line in 0..<30 {
                canvas.text("Step \(line + 1): follow the script for a billing dispute", x: 60, y: 90 + line * 20, color: 0x22_2222)
            }
        }
        let (holding, event) = schedule.check(elapsed: elapsed)
        if holding { return event }
        let t = Double(frame) * 0.08
        for y in 0..<size.height {
            let fy = Double(y) / 40
            for x in 0..<size.width {
                let fx = Double(x) / 40
                let r = UInt32(127.5 + 127.5 * sin(fx + t))
                let g = UInt32(127.5 + 127.5 * sin(fy * 1.3 - t * 0.7))
                let b = UInt32(127.5 + 127.5 * sin((fx + fy) * 0.8 + t * 1.1))
                pixels[y * size.width + x] = r << 16 | g << 8 | b
            }
        }
        pixels.withUnsafeMutableBytes { buffer in
            let data = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
            guard
                let image = XCreateImage(
                    canvas.display, cx11_default_visual(canvas.display), 24, ZPixmap, 0, data, UInt32(size.width),
                    UInt32(size.height), 32, Int32(size.width * 4))
            else { return }
            XPutImage(
                canvas.display, canvas.window, canvas.gc, image, 0, 0, Int32(canvas.width - size.width - 40),
                Int32(canvas.height - size.height - 40), UInt32(size.width), UInt32(size.height))
            // The pixels belong to the array: detach them before the image is freed.
            image.pointee.data = nil
            cx11_destroy_image(image)
        }
        return nil
    }
}
