import Testing

@testable import RecorderCore

struct DurationTextTests {
    @Test(arguments: [("20s", 20.0), ("500ms", 0.5), ("1m30s", 90), ("2h", 7200), ("1.5s", 1.5), (" 10m ", 600)])
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try DurationText.parseSeconds(text) == seconds)
    }

    @Test(arguments: ["", "20", "s", "ten seconds", "5 x", "-3s", "1d"])
    func rejects(_ text: String) {
        #expect(throws: DurationText.InvalidDuration.self) { try DurationText.parseSeconds(text) }
    }
}

struct RecordingSettingsTests {
    @Test func defaultsAreValid() throws {
        try RecordingSettings().validate()
    }

    @Test func namesTheBadKey() {
        var settings = RecordingSettings()
        settings.framesPerSecond = 0
        #expect { try settings.validate() } throws: { error in
            "\(error)".contains("invalid setting fps")
        }
        settings = RecordingSettings()
        settings.cpuUsed = 17
        #expect { try settings.validate() } throws: { error in
            "\(error)".contains("cpu-used")
        }
        settings = RecordingSettings()
        settings.monitor = ""
        #expect { try settings.validate() } throws: { error in
            "\(error)".contains("monitor")
        }
    }
}
