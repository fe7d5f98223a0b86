import Foundation
import Hummingbird

/// What the store answers with: multistatus bodies, HTTP dates, byte ranges, and Destination headers.
package enum StoreResponses {
    package static func multistatus(_ entries: [String]) -> Response {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <D:multistatus xmlns:D="DAV:">\(entries.joined())</D:multistatus>
            """
        return Response(
            status: .init(code: 207, reasonPhrase: "Multi-Status"),
            headers: [.contentType: "application/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    package static func isCollection(_ kind: BuiltinStore.Kind) -> Bool {
        if case .collection = kind { true } else { false }
    }

    /// One resource's `D:response`: live properties (resourcetype, getcontentlength, getlastmodified)
    /// and dead ones, as the request asked — all, only names, or the named ones with a 404 propstat
    /// for those the resource lacks.
    package static func propEntry(
        _ path: StorePath, _ kind: BuiltinStore.Kind, dead: [PropertyName: String] = [:],
        wanted: PropertyXML.PropfindRequest = .allprop
    ) -> String {
        var live: [(String, String)] = []
        switch kind {
        case .collection(let modified):
            live = [
                ("resourcetype", "<D:resourcetype><D:collection/></D:resourcetype>"),
                ("getlastmodified", "<D:getlastmodified>\(httpDate(modified))</D:getlastmodified>"),
            ]
        case .file(let size, let modified):
            live = [
                ("resourcetype", "<D:resourcetype/>"),
                ("getcontentlength", "<D:getcontentlength>\(size)</D:getcontentlength>"),
                ("getlastmodified", "<D:getlastmodified>\(httpDate(modified))</D:getlastmodified>"),
            ]
        case .missing:
            break
        }
        let deadSorted = dead.sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
        var found: [String] = []
        var missing: [String] = []
        switch wanted {
        case .allprop:
            found = live.map(\.1) + deadSorted.map { PropertyXML.element($0.key, value: $0.value) }
        case .propname:
            found = live.map { "<D:\($0.0)/>" } + deadSorted.map { PropertyXML.element($0.key, value: nil) }
        case .prop(let names):
            for name in names {
                if name.namespace == "DAV:", let value = live.first(where: { $0.0 == name.name }) {
                    found.append(value.1)
                } else if let value = dead[name] {
                    found.append(PropertyXML.element(name, value: value))
                } else {
                    missing.append(PropertyXML.element(name, value: nil))
                }
            }
        }
        let href = BoundedXML.escape(path.href(collection: isCollection(kind)))
        var body = "<D:response><D:href>\(href)</D:href>"
        if !found.isEmpty || missing.isEmpty {
            body += "<D:propstat><D:prop>\(found.joined())</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
        }
        if !missing.isEmpty {
            body +=
                "<D:propstat><D:prop>\(missing.joined())</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>"
        }
        return body + "</D:response>"
    }

    package static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    /// What a GET answers to its Range header (RFC 9110 §14.2): one satisfiable range is served
    /// (206); a range starting past the end is 416; anything else (a syntax we do not parse, another
    /// unit, several ranges, or an If-Range that is not the file's Last-Modified) gets the whole file
    /// (200), as the RFC lets a server ignore Range. We issue no ETags, so an entity-tag If-Range
    /// never matches.
    package enum RangeAnswer: Equatable {
        case whole
        case part(Range<Int64>)
        case unsatisfiable
    }

    package static func rangeAnswer(_ header: String?, ifRange: String?, lastModified: String, size: Int64) -> RangeAnswer {
        guard let header else { return .whole }
        if let ifRange, ifRange.trimmingCharacters(in: .whitespaces) != lastModified { return .whole }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else { return .whole }
        let spec = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces)
            .split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2, spec.allSatisfy({ $0.allSatisfy(\.isASCIIDigitCharacter) }) else { return .whole }
        if spec[0].isEmpty {
            guard let suffix = Int64(spec[1]) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - suffix)..<size)
        }
        guard let start = Int64(spec[0]) else { return .whole }
        let end: Int64
        if spec[1].isEmpty {
            end = size - 1
        } else {
            guard let last = Int64(spec[1]), last >= start else { return .whole }
            end = min(last, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .part(start..<(end + 1))
    }

    /// The store path a `Destination` header names: `https://host:port/dav/a/b` or `/dav/a/b` → `/a/b`
    /// (still percent-encoded). A URL naming another server is `.otherServer` (RFC 4918 §9.8.5: 502),
    /// anything outside `/dav` `.invalid`.
    package enum Destination: Equatable {
        case path(String)
        case otherServer(String)
        case invalid
    }

    package static func destination(_ header: String, requestAuthority: String?) -> Destination {
        // A query or fragment is not part of the resource (it became part of a file name before).
        var path = String(header.prefix { $0 != "?" && $0 != "#" })
        let header = path
        if let scheme = header.range(of: "://") {
            let rest = header[scheme.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = String(rest[..<slash])
            // Compared without case and without user info; a missing Host cannot match anything.
            let host = authority.split(separator: "@").last.map { $0.lowercased() } ?? ""
            guard let requestAuthority, host == requestAuthority.lowercased() else {
                return .otherServer(authority)
            }
            guard slash < rest.endIndex else { return .invalid }
            path = String(rest[slash...])
        }
        guard path == "/dav" || path.hasPrefix("/dav/") else { return .invalid }
        return .path(String(path.dropFirst(4)))
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
