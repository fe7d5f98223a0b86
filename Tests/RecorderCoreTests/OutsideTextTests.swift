import RecorderCore
import Testing

/// Outside text printed to an admin: nothing invisible or steering survives, ordinary letters do.
struct OutsideTextTests {
    @Test func invisibleAndSteeringCharactersBecomeVisibleEscapes() {
        let cases: [(String, String)] = [
            ("ok\u{1B}]0;owned\u{07}", "ok\\u{1b}]0;owned\\u{7}"),  // terminal title
            ("line\nforged", "line\\u{a}forged"),
            ("admin\u{200B}", "admin\\u{200b}"),  // zero-width space: looks like "admin"
            ("\u{202E}fdp.exe", "\\u{202e}fdp.exe"),  // right-to-left override
            ("\u{FEFF}bom", "\\u{feff}bom"),
            ("tag\u{E0041}", "tag\\u{e0041}"),  // tag characters hide text
            ("a\u{2028}b", "a\\u{2028}b"),
            ("agent-7\u{3164}", "agent-7\\u{3164}"),  // Hangul filler: a second "agent-7" on screen
            ("x\u{FE0F}\u{034F}", "x\\u{fe0f}\\u{34f}"),  // variation selector, combining grapheme joiner
            ("Zoë Ångström 田中", "Zoë Ångström 田中"),
        ]
        for (input, expected) in cases { #expect(OutsideText.printable(input) == expected, "\(expected)") }
    }

    @Test func boundedCountsScalarsNotCharacters() {
        let combining = "e" + String(repeating: "\u{301}", count: 100_000)
        let cut = OutsideText.bounded(combining, limit: 16)
        #expect(cut.unicodeScalars.count < 64 && cut.hasSuffix("(200001 bytes)"), "\(cut.prefix(80))")
        #expect(OutsideText.bounded("short") == "short")
    }
}
