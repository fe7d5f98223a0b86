import CollectorCore
import Foundation
import Hummingbird
import RecorderCore
import WebDAV

extension StoreAPI {
    /// Bytes read per step of a download: the next read waits until the client has taken the last one,
    /// so memory does not grow with the file (reading whole ranges took the collector to 4.5 GB with
    /// three GETs of a 900 MB file). Measured on three parallel 1 GB GETs: peak RSS 420 MB, of which
    /// most is glibc arena fragmentation, not live buffers; fixing glibc's mmap threshold at 128 KiB
    /// brought that to 210–230 MB but cost 30% more CPU per uploaded segment, so it is not done.
    static let downloadChunkBytes = 64 * 1024

    func get(_ request: Request, _ path: StorePath, headOnly: Bool, pace: ConnectionPace) async throws -> Response {
        guard case .file(let size, let modified) = try store.kind(path) else {
            throw CollectorError(.notFound, "\(path) is not a file in the store")
        }
        let lastModified = StoreResponses.httpDate(modified)
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .lastModified: lastModified,
        ]
        var range = 0..<size
        var status = HTTPResponse.Status.ok
        switch StoreResponses.rangeAnswer(
            request.headers[.range], ifRange: request.headers[.ifRange], lastModified: lastModified, size: size)
        {
        case .whole: break
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .part(let requested):
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
        }
        headers[.contentLength] = "\(range.count)"
        if headOnly { return Response(status: status, headers: headers) }
        let file = try await store.openForReading(path)
        let span = range
        let body = ResponseBody(contentLength: Int(range.count)) { writer in
            var offset = span.lowerBound
            while offset < span.upperBound {
                let count = Int(min(Int64(StoreAPI.downloadChunkBytes), span.upperBound - offset))
                try await pace.writable()
                let chunk = try await BuiltinStore.read(file, offset: offset, count: count)
                offset += Int64(chunk.readableBytes)
                try await writer.write(chunk)
            }
            file.close()
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// An agent listing a collection above its own area sees only the members on the way to it, not
    /// other node paths or other agents' directories.
    func propfind(_ request: Request, _ path: StorePath, access: Access) async throws -> Response {
        let requestBody = try await xmlBody(request, method: "PROPFIND")
        let wanted: PropertyXML.PropfindRequest
        do {
            wanted = try PropertyXML.propfindRequest(requestBody)
        } catch let error as PropertyXML.Malformed {
            throw CollectorError(.invalid, "the PROPFIND body is \(error.description)")
        }
        let depth = request.headers[.init("Depth")!] ?? "infinity"
        guard depth == "0" || depth == "1" else {
            throw CollectorError(.forbidden, "PROPFIND with Depth: \(depth) is not supported; use 0 or 1")
        }
        let kind = try store.kind(path)
        guard kind != .missing else { throw CollectorError(.notFound, "\(path) does not exist") }
        var resources = [(path, kind)]
        if depth == "1", case .collection = kind {
            let store = self.store
            let members = try await BuiltinStore.blocking {
                try store.children(path).map { name in
                    let child = StorePath(components: path.components + [name])
                    return (child, try store.kind(child))
                }
            }
            resources.append(
                contentsOf: members.filter { member, _ in
                    (try? StoreScope.authorize(access, member, write: false, ancestorsAllowed: true)) != nil
                })
        }
        let dead = try await properties.all(path, depth: depth == "0" ? 0 : 1)
        return StoreResponses.multistatus(
            resources.map { resource, kind in
                StoreResponses.propEntry(resource, kind, dead: dead[resource.description] ?? [:], wanted: wanted)
            })
    }
}
