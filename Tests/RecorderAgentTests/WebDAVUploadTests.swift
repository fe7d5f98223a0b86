import Foundation
import RecorderCore
import StorageClient
import TestSupport
import TestTraits
import Testing

@testable import RecorderAgent

/// The WebDAV client against a real Apache mod_dav over HTTPS with Digest authentication.
@Suite(.serialized, .realTime)
struct WebDAVUploadTests {
    func client(_ server: ApacheDAVServer, password: String? = nil, caFile: String? = nil) -> WebDAVClient {
        WebDAVClient(
            target: StorageTarget(
                baseURL: server.baseURL, credentials: .digest(user: server.user, password: password ?? server.password),
                caFile: caFile ?? server.caFile))
    }

    @Test func storesAtTheLayoutPathAndRetriesHarmlessly() throws {
        let server = try ApacheDAVServer()
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let directory = StorageLayout.directory(
            nodePath: "/emea/paris/sales", firstFrameTime: "2026-11-23T12:00:00.250Z", agentId: "ws-0042",
            callId: "call-77")
        #expect(directory == ["emea", "paris", "sales", "2026", "11", "23", "ws-0042", "call-77"])
        let dav = client(server)
        try dav.store(bytes, in: directory, name: "20261123T120000.250Z-0001.webm.p7m")
        // A retry after a lost response: same name, same content, no error, no duplicate.
        try dav.store(bytes, in: directory, name: "20261123T120000.250Z-0001.webm.p7m")
        let onDisk = server.documentRoot.appendingPathComponent("dav/" + directory.joined(separator: "/"))
        let names = try FileManager.default.contentsOfDirectory(atPath: onDisk.path)
        #expect(names == ["20261123T120000.250Z-0001.webm.p7m"], "no temporary names left behind: \(names)")
        let stored = try Data(contentsOf: onDisk.appendingPathComponent(names[0]))
        let same = stored == Data(bytes)
        #expect(same)
        #expect(try dav.size(of: directory + [names[0]]) == bytes.count)
    }

    @Test func wrongPasswordIsUnauthorizedAndWritesNothing() throws {
        let server = try ApacheDAVServer()
        #expect {
            try client(server, password: "wrong").store([1, 2, 3], in: ["a"], name: "x")
        } throws: { error in
            (error as? TransferError)?.kind == .unauthorized && "\(error)".contains("HTTP 401")
        }
        let root = try FileManager.default.contentsOfDirectory(
            atPath: server.documentRoot.appendingPathComponent("dav").path)
        #expect(root.isEmpty)
    }

    @Test func anUntrustedCertificateIsATLSErrorBeforeAnythingIsSent() throws {
        let server = try ApacheDAVServer()
        let otherCA = try TestKeyPair(name: "another CA")
        #expect {
            try client(server, caFile: otherCA.certificate.path).store([1, 2, 3], in: ["a"], name: "x")
        } throws: { error in
            (error as? TransferError)?.kind == .tls
        }
        let root = try FileManager.default.contentsOfDirectory(
            atPath: server.documentRoot.appendingPathComponent("dav").path)
        #expect(root.isEmpty, "nothing may reach an untrusted server")
    }

    @Test func aServerThatIsDownIsTransient() throws {
        let server = try ApacheDAVServer()
        server.stop()
        #expect {
            try client(server).store([1, 2, 3], in: ["a"], name: "x")
        } throws: { error in
            (error as? TransferError)?.kind == .transient
        }
    }

    @Test(arguments: [
        "../../etc", "a/b", "..", ".", "", "x\u{0}y", "call id 7", "ünïcode", String(repeating: "z", count: 300),
    ])
    func hostileCallIdsStayOneSafeComponent(_ callId: String) {
        let directory = StorageLayout.directory(
            nodePath: "/emea", firstFrameTime: "2026-11-23T12:00:00.000Z", agentId: "ws/../1", callId: callId)
        for component in directory {
            #expect(!component.isEmpty && component != "." && component != ".." && !component.hasPrefix("."))
            #expect(!component.contains("/") && component.count <= 128)
            #expect(component.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 })
        }
        #expect(directory.count == 6)
    }
}
