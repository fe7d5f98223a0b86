import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The XML of PROPFIND and PROPPATCH bodies (RFC 4918 §14): parsed into a small element tree with
/// namespaces resolved, and property values written back as self-contained fragments.
enum PropertyXML {
    final class Element {
        let namespace: String
        let name: String
        let attributes: [String: String]
        var children: [Node] = []

        init(namespace: String, name: String, attributes: [String: String]) {
            self.namespace = namespace
            self.name = name
            self.attributes = attributes
        }

        var elements: [Element] {
            children.compactMap { if case .element(let element) = $0 { element } else { nil } }
        }

        func `is`(_ namespace: String, _ name: String) -> Bool { self.namespace == namespace && self.name == name }
    }

    enum Node {
        case element(Element)
        case text(String)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The document's root element; `Malformed` when the body is not well-formed XML.
    static func parse(_ data: Data) throws -> Element {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        // On Linux parse() can return true after an error: parserError is the reliable signal.
        guard parser.parse(), parser.parserError == nil, let root = builder.root else {
            throw Malformed(
                description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }

    enum PropfindRequest: Equatable {
        case allprop
        case propname
        case prop([PropertyName])
    }

    /// An empty body means allprop (RFC 4918 §9.1).
    static func propfindRequest(_ data: Data) throws -> PropfindRequest {
        guard !data.isEmpty else { return .allprop }
        let root = try parse(data)
        guard root.is("DAV:", "propfind") else { throw Malformed(description: "the root element must be DAV:propfind") }
        for child in root.elements where child.namespace == "DAV:" {
            switch child.name {
            case "allprop": return .allprop
            case "propname": return .propname
            case "prop": return .prop(child.elements.map { PropertyName(namespace: $0.namespace, name: $0.name) })
            default: continue
            }
        }
        throw Malformed(description: "DAV:propfind needs DAV:allprop, DAV:propname or DAV:prop")
    }

    /// The set and remove instructions of a DAV:propertyupdate, in document order.
    static func propertyUpdates(_ data: Data) throws -> [DeadProperties.Update] {
        let root = try parse(data)
        guard root.is("DAV:", "propertyupdate") else {
            throw Malformed(description: "the root element must be DAV:propertyupdate")
        }
        var updates: [DeadProperties.Update] = []
        for instruction in root.elements where instruction.namespace == "DAV:" {
            guard instruction.name == "set" || instruction.name == "remove" else { continue }
            for prop in instruction.elements where prop.is("DAV:", "prop") {
                for property in prop.elements {
                    let name = PropertyName(namespace: property.namespace, name: property.name)
                    updates.append(
                        instruction.name == "set" ? .set(name, valueXML: serialize(property.children)) : .remove(name))
                }
            }
        }
        guard !updates.isEmpty else { throw Malformed(description: "DAV:propertyupdate names no property") }
        return updates
    }

    /// Content as XML in which every element declares its own namespace, valid wherever it is pasted.
    static func serialize(_ nodes: [Node]) -> String {
        nodes.map { node in
            switch node {
            case .text(let text): return escape(text)
            case .element(let element):
                let attributes = element.attributes.sorted { $0.key < $1.key }.map {
                    " \($0.key)=\"\(escape($0.value, quotes: true))\""
                }.joined()
                let open = openTag(PropertyName(namespace: element.namespace, name: element.name))
                return "<\(open.tag)\(open.declaration)\(attributes)>\(serialize(element.children))</\(open.tag)>"
            }
        }.joined()
    }

    /// A property element with its namespace declared on itself.
    static func element(_ property: PropertyName, value: String?) -> String {
        let open = openTag(property)
        guard let value, !value.isEmpty else { return "<\(open.tag)\(open.declaration)/>" }
        return "<\(open.tag)\(open.declaration)>\(value)</\(open.tag)>"
    }

    private static func openTag(_ property: PropertyName) -> (tag: String, declaration: String) {
        property.namespace.isEmpty
            ? (property.name, " xmlns=\"\"")
            : ("ns:\(property.name)", " xmlns:ns=\"\(escape(property.namespace, quotes: true))\"")
    }

    static func escape(_ text: String, quotes: Bool = false) -> String {
        var escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        if quotes { escaped = escaped.replacingOccurrences(of: "\"", with: "&quot;") }
        return escaped
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: Element?
        var open: [Element] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            // Namespaced attributes are dropped: no WebDAV property in use relies on them.
            let plain = attributes.filter { !$0.key.contains(":") && $0.key != "xmlns" }
            let element = Element(namespace: namespaceURI ?? "", name: elementName, attributes: plain)
            if let parent = open.last { parent.children.append(.element(element)) } else { root = element }
            open.append(element)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            _ = open.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { append(string) }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            append(String(decoding: CDATABlock, as: UTF8.self))
        }

        private func append(_ text: String) {
            guard let parent = open.last else { return }
            if case .text(let previous) = parent.children.last {
                parent.children[parent.children.count - 1] = .text(previous + text)
            } else {
                parent.children.append(.text(text))
            }
        }
    }
}
