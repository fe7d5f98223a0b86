import Foundation
import WebDAV

/// Reads a PROPFIND Depth 1 answer (RFC 4918 §14.16 multistatus): one entry per `response`, named by
/// the last segment of its `href` (percent-decoded), a collection when its `resourcetype` holds
/// `collection`. The response for the listed collection itself is left out. Namespace-aware, so any
/// prefix servers choose for `DAV:` works.
enum MultistatusListing {
    static func entries(_ body: Data, requestURL: String) throws -> [StorageEntry] {
        // A storage server is outside data too: the same bounded parser as request bodies, with room
        // for large listings (a day's directory of a busy site holds thousands of files).
        let root: BoundedXML.Element
        do {
            root = try BoundedXML.parse(
                body, limits: .init(maximumDepth: 64, maximumElements: 1_000_000, maximumBytes: 64 << 20))
        } catch {
            throw StorageReadError("the PROPFIND answer from \(requestURL) is \(error)")
        }
        guard root.is("DAV:", "multistatus") else {
            throw StorageReadError("the PROPFIND answer from \(requestURL) is not a DAV:multistatus")
        }
        let responses = root.elements.filter { $0.is("DAV:", "response") }.map { response in
            let href = response.elements.first { $0.is("DAV:", "href") }.map(text) ?? ""
            // resourcetype sits in a propstat's prop; a collection names DAV:collection in it.
            let isCollection = response.elements.filter { $0.is("DAV:", "propstat") }
                .flatMap { $0.elements.filter { $0.is("DAV:", "prop") } }
                .flatMap { $0.elements.filter { $0.is("DAV:", "resourcetype") } }
                .contains { $0.elements.contains { $0.is("DAV:", "collection") } }
            return Response(href: href.trimmingCharacters(in: .whitespacesAndNewlines), isCollection: isCollection)
        }
        let ownPath = path(of: requestURL)
        return responses.compactMap { response in
            let hrefPath = path(of: response.href)
            guard trimmed(hrefPath) != trimmed(ownPath),
                let last = hrefPath.split(separator: "/").last,
                let name = String(last).removingPercentEncoding
            else { return nil }
            return StorageEntry(name: name, isCollection: response.isCollection)
        }
    }

    /// The path part of an href, which servers send either as an absolute URL or as an absolute path.
    private static func path(of href: String) -> String {
        if let components = URLComponents(string: href), components.host != nil {
            return components.percentEncodedPath
        }
        return href
    }

    private static func trimmed(_ path: String) -> String {
        path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    private struct Response {
        var href = ""
        var isCollection = false
    }

    private static func text(_ element: BoundedXML.Element) -> String {
        element.children.map { if case .text(let text) = $0 { text } else { "" } }.joined()
    }
}
