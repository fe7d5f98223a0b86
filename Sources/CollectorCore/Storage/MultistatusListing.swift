import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads a PROPFIND Depth 1 answer (RFC 4918 §14.16 multistatus): one entry per `response`, named by
/// the last segment of its `href` (percent-decoded), a collection when its `resourcetype` holds
/// `collection`. The response for the listed collection itself is left out. Namespace-aware, so any
/// prefix servers choose for `DAV:` works.
enum MultistatusListing {
    static func entries(_ body: Data, requestURL: String) throws -> [StorageEntry] {
        // A storage server is outside data too: no DTD (entity expansion), and a bound on the listing.
        do {
            try BoundedXML.refuseDTD(body, limits: .init(maximumBytes: 256 << 20))
        } catch {
            throw StorageReadError("the PROPFIND answer from \(requestURL) is \(error)")
        }
        let delegate = Delegate()
        let parser = XMLParser(data: body)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        // On Linux parse() may answer true for a malformed document; parserError is what tells.
        guard parser.parse(), parser.parserError == nil else {
            throw StorageReadError(
                "the PROPFIND answer from \(requestURL) is not XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")"
            )
        }
        let ownPath = path(of: requestURL)
        return delegate.responses.compactMap { response in
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

    private final class Delegate: NSObject, XMLParserDelegate {
        var responses: [Response] = []
        private var current: Response?
        private var text = ""
        private var inResourceType = false

        func parser(
            _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            guard namespaceURI == "DAV:" else { return }
            switch element {
            case "response": current = Response()
            case "href": text = ""
            case "resourcetype": inResourceType = true
            case "collection" where inResourceType: current?.isCollection = true
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            guard namespaceURI == "DAV:" else { return }
            switch element {
            case "href": current?.href = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case "resourcetype": inResourceType = false
            case "response":
                if let current { responses.append(current) }
                current = nil
            default: break
            }
        }
    }
}
