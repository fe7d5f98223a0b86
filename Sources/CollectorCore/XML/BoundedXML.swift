import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// XML from outside (WebDAV request bodies, answers of external storage servers), parsed with limits
/// that make hostile input cheap to refuse: no DTD (so no entity declarations, no entity expansion —
/// a 700 KB body referencing one internal entity cost 9 s of CPU before), bounded nesting and element
/// count, and a tree whose building, serialising and freeing never recurse deeper than the nesting
/// limit (tens of thousands of nested elements crashed the collector with a stack overflow).
///
/// Only Foundation: the fuzz target (`scripts/fuzz-xml`) compiles this file on its own.
public enum BoundedXML {
    public struct Limits: Sendable {
        /// WebDAV bodies nest 4–6 deep (propertyupdate/set/prop/property/value…); 32 leaves room for
        /// structured property values.
        public var maximumDepth = 32
        public var maximumElements = 10_000
        public var maximumBytes = 1 << 20

        public static let standard = Limits()

        public init(maximumDepth: Int = 32, maximumElements: Int = 10_000, maximumBytes: Int = 1 << 20) {
            self.maximumDepth = maximumDepth
            self.maximumElements = maximumElements
            self.maximumBytes = maximumBytes
        }
    }

    public final class Element {
        public let namespace: String
        public let name: String
        public let attributes: [String: String]
        public fileprivate(set) var children: [Node] = []

        init(namespace: String, name: String, attributes: [String: String]) {
            self.namespace = namespace
            self.name = name
            self.attributes = attributes
        }

        public var elements: [Element] {
            children.compactMap { if case .element(let element) = $0 { element } else { nil } }
        }

        public func `is`(_ namespace: String, _ name: String) -> Bool {
            self.namespace == namespace && self.name == name
        }
    }

    public enum Node {
        case element(Element)
        case text(String)
    }

    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The document's root element; `Malformed` naming the problem otherwise.
    public static func parse(_ data: Data, limits: Limits = .standard) throws -> Element {
        try refuseDTD(data, limits: limits)
        let builder = TreeBuilder(limits: limits)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        // On Linux parse() can return true after an error: parserError is the reliable signal.
        let parsed = parser.parse()
        if let refusal = builder.refusal { throw Malformed(refusal) }
        guard parsed, parser.parserError == nil, let root = builder.root else {
            throw Malformed("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }

    /// Refuses oversized documents and any document type declaration before a parser sees them. A DTD
    /// can only stand in the prolog, but `<!DOCTYPE` and `<!ENTITY` are refused anywhere (even inside a
    /// comment): a WebDAV body never needs them, and a byte scan cannot be fooled by encodings libxml2
    /// would decode differently (UTF-16 bodies are refused for the same reason).
    public static func refuseDTD(_ data: Data, limits: Limits = .standard) throws {
        guard data.count <= limits.maximumBytes else {
            throw Malformed("larger than \(limits.maximumBytes) bytes")
        }
        let bytes = [UInt8](data)
        if bytes.count >= 2,
            (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE)
                || bytes[0] == 0 || bytes[1] == 0
        {
            throw Malformed("not UTF-8 (send the body as UTF-8)")
        }
        // FoundationXML traps on element names that are not valid UTF-8 (libxml2 hands them over
        // as they are); the fuzzer found it with `<a><\xce\xce…`. Such a body is refused first.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Malformed("not valid UTF-8")
        }
        // FoundationXML also dereferences a NULL for a processing instruction without data (`<?uk?>`,
        // found by the fuzzer). WebDAV bodies carry none: only a leading XML declaration is let through.
        var body = bytes[...]
        if body.starts(with: Array("<?xml ".utf8)) || body.starts(with: Array("<?xml\t".utf8)) {
            guard let end = firstIndex(of: Array("?>".utf8), in: body),
                !body[(body.startIndex + 2)..<end].contains(UInt8(ascii: "<"))
            else { throw Malformed("not well-formed XML: the XML declaration is not closed") }
            // libxml2 dereferences a NULL switching to some encodings (`encoding="utf-7"`, fuzzer).
            let declaration = String(decoding: body[body.startIndex..<end], as: UTF8.self).lowercased()
            if declaration.contains("encoding"),
                !(declaration.contains("encoding=\"utf-8\"") || declaration.contains("encoding='utf-8'"))
            {
                throw Malformed("refused: only UTF-8 is accepted (declare encoding=\"utf-8\" or none)")
            }
            body = body[(end + 2)...]
        }
        if firstIndex(of: Array("<?".utf8), in: body) != nil {
            throw Malformed("refused: it contains a processing instruction")
        }
        for marker in ["<!DOCTYPE", "<!ENTITY"] where contains(bytes, Array(marker.utf8)) {
            throw Malformed("refused: it contains \(marker) (document type and entity declarations are not accepted)")
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        firstIndex(of: needle, in: haystack[...]) != nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Builds the tree with an explicit stack (no recursion), and stops the parser at the first limit.
    private final class TreeBuilder: NSObject, XMLParserDelegate {
        let limits: Limits
        var root: Element?
        var open: [Element] = []
        var elementCount = 0
        var refusal: String?

        init(limits: Limits) {
            self.limits = limits
        }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            guard refusal == nil else { return }
            elementCount += 1
            if open.count >= limits.maximumDepth {
                refuse(parser, "nested deeper than \(limits.maximumDepth) elements")
                return
            }
            if elementCount > limits.maximumElements {
                refuse(parser, "more than \(limits.maximumElements) elements")
                return
            }
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

        /// Stops at the first error, fatal or not (an undeclared prefix is not fatal to libxml2):
        /// FoundationXML leaks the CFError it makes for each error libxml2 reports (~70 bytes each;
        /// a body of repeated namespace errors leaked megabytes), so one error is the most a body costs.
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            parser.abortParsing()
        }

        /// Belt and braces: the byte scan refuses DTDs first; should one get through, parsing stops here.
        func parser(
            _ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?
        ) {
            refuse(parser, "refused: it declares an entity")
        }

        func parser(
            _ parser: XMLParser, foundNotationDeclarationWithName name: String, publicID: String?, systemID: String?
        ) {
            refuse(parser, "refused: it declares a notation")
        }

        private func refuse(_ parser: XMLParser, _ reason: String) {
            if refusal == nil { refusal = reason }
            parser.abortParsing()
        }

        private func append(_ text: String) {
            guard refusal == nil, let parent = open.last else { return }
            if case .text(let previous) = parent.children.last {
                parent.children[parent.children.count - 1] = .text(previous + text)
            } else {
                parent.children.append(.text(text))
            }
        }
    }
}

extension BoundedXML {
    /// Content as XML in which every element declares its own namespace, valid wherever it is pasted.
    /// Iterative: a work list of pending text instead of recursion over the tree.
    public static func serialize(_ nodes: [Node]) -> String {
        enum Work {
            case node(Node)
            case close(String)
        }
        var output = ""
        var pending: [Work] = nodes.reversed().map { .node($0) }
        while let work = pending.popLast() {
            switch work {
            case .close(let tag): output += "</\(tag)>"
            case .node(.text(let text)): output += escape(text)
            case .node(.element(let element)):
                let attributes = element.attributes.sorted { $0.key < $1.key }.map {
                    " \($0.key)=\"\(escape($0.value, quotes: true))\""
                }.joined()
                let open = openTag(namespace: element.namespace, name: element.name)
                output += "<\(open.tag)\(open.declaration)\(attributes)>"
                pending.append(.close(open.tag))
                pending.append(contentsOf: element.children.reversed().map { .node($0) })
            }
        }
        return output
    }

    /// `<ns:name xmlns:ns="…">` for a namespaced element, `<name xmlns="">` for one without.
    public static func openTag(namespace: String, name: String) -> (tag: String, declaration: String) {
        namespace.isEmpty
            ? (name, " xmlns=\"\"")
            : ("ns:\(name)", " xmlns:ns=\"\(escape(namespace, quotes: true))\"")
    }

    public static func escape(_ text: String, quotes: Bool = false) -> String {
        var escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        if quotes { escaped = escaped.replacingOccurrences(of: "\"", with: "&quot;") }
        return escaped
    }
}
