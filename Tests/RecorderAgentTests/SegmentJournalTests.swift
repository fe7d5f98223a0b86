import Foundation
import RecorderAgent
import RecorderCore
import TestSupport
import Testing

/// The journal of the segment being recorded: cut at any byte (a crash, a power loss mid-write) it
/// still gives the sealed segment as of its last whole closing, which `openssl cms -decrypt` opens to
/// exactly the WebM of that moment; a damaged record ends what is read, and is never taken for data.
@Suite struct SegmentJournalTests {
    struct Recorded {
        var journal: [UInt8]
        /// After each closing: the journal's length then, and the WebM a file ending there is.
        var closings: [(journalLength: Int, webm: [UInt8], state: [UInt8])]
        var pair: TestKeyPair
    }

    static func record() throws -> Recorded {
        let pair = try TestKeyPair(name: "journal")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("000007.journal")
        var webm = ProgressiveWebMWriter(width: 64, height: 48, startWallTimeNanos: 1_795_435_200_000_000_000)
        let seal = try ProgressiveSeal(for: [try SealingRecipient(certificatePEM: try pair.certificatePEM)], headerLength: webm.headerLength)
        let writer = try SegmentJournalWriter(creating: url, metadata: Array(#"{"sequence":7}"#.utf8), seal: seal)
        #expect(throws: OutputError.self) {
            try SegmentJournalWriter(creating: url, metadata: [], seal: seal)
        }
        var body: [UInt8] = []
        var closings: [(Int, [UInt8], [UInt8])] = []
        for index in 0..<12 {
            let frame = (0..<(300 + index * 37)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index) }
            var cluster = webm.append(frame: frame, timestampMs: Int64(index) * 200, isKeyframe: index % 5 == 0)
            if index % 2 == 1 { cluster += webm.cut() }
            guard !cluster.isEmpty else { continue }
            body += cluster
            try writer.appendBody(try seal.append(cluster))
            if index % 2 == 1 {
                let (header, tail) = webm.closing(durationMs: Double(index + 1) * 200)
                let state = Array(#"{"frames":\#(index + 1)}"#.utf8)
                try writer.appendClosing(try seal.close(header: header, tail: tail), state: state)
                try writer.sync()
                closings.append((writer.bytesWritten, header + body + tail, state))
            }
        }
        writer.close()
        return Recorded(journal: [UInt8](try Data(contentsOf: url)), closings: closings, pair: pair)
    }

    @Test func cutAtAnyByteItGivesTheSegmentAsOfItsLastWholeClosing() throws {
        let recorded = try Self.record()
        #expect(recorded.closings.count == 6 && recorded.closings.last?.journalLength == recorded.journal.count)
        let opener = try SegmentOpener(certificatePEM: try recorded.pair.certificatePEM, privateKeyPEM: try recorded.pair.privateKeyPEM)
        let startLength = try #require(SegmentJournalTests.startRecordLength(recorded.journal))
        #expect(throws: SegmentJournal.Unreadable.self) { try SegmentJournal.read(Array(recorded.journal.prefix(startLength - 1))) }
        for length in startLength...recorded.journal.count {
            let contents = try SegmentJournal.read(Array(recorded.journal.prefix(length)))
            #expect(contents.metadata == Array(#"{"sequence":7}"#.utf8))
            let expected = recorded.closings.last { $0.journalLength <= length }
            guard let expected else {
                #expect(try contents.sealed() == nil, "cut at \(length): no closing yet")
                continue
            }
            let sealed = try #require(try contents.sealed())
            #expect(try opener.open(sealed) == expected.webm, "cut at \(length)")
            #expect(contents.closingState == expected.state)
            if length == expected.journalLength {
                #expect(contents.tornBytes == 0 && contents.unclosedBodyBytes == 0, "cut right after a closing at \(length)")
            } else {
                #expect(contents.tornBytes <= length - expected.journalLength, "cut at \(length)")
            }
        }
        // openssl opens the last one to the exact WebM.
        let sealed = try #require(try SegmentJournal.read(recorded.journal).sealed())
        let file = recorded.pair.directory.appendingPathComponent("recovered.webm.p7m")
        try Data(sealed).write(to: file)
        let opened = try ProcessRunner.run(
            "openssl",
            ["cms", "-decrypt", "-inform", "DER", "-in", file.path, "-recip", recorded.pair.certificate.path, "-inkey", recorded.pair.privateKey.path])
        #expect(opened.status == 0 && opened.stdoutData == Data(recorded.closings.last!.webm), "\(opened.stderr)")
    }

    @Test func aDamagedRecordEndsWhatIsReadAndNothingAfterItCounts() throws {
        let recorded = try Self.record()
        // A byte flipped inside the third closing's span: the closings before it stand, none after.
        let target = recorded.closings[2].journalLength - 40
        var damaged = recorded.journal
        damaged[target] ^= 0x01
        let contents = try SegmentJournal.read(damaged)
        let opener = try SegmentOpener(certificatePEM: try recorded.pair.certificatePEM, privateKeyPEM: try recorded.pair.privateKeyPEM)
        #expect(try opener.open(try #require(try contents.sealed())) == recorded.closings[1].webm)
        #expect(contents.tornBytes > 0)
        #expect(throws: SegmentJournal.Unreadable.self) { try SegmentJournal.read(Array("not a journal".utf8)) }
    }

    /// The magic and the start record: 5 bytes, then type, length, payload and its SHA-256.
    static func startRecordLength(_ journal: [UInt8]) -> Int? {
        guard journal.count > 10 else { return nil }
        let length = journal[6..<10].reduce(0) { $0 << 8 | Int($1) }
        return 5 + 5 + length + 32
    }
}
