import Foundation

/// XML from outside (WebDAV request bodies, answers of external storage servers), read by a parser
/// of our own (`BoundedXML+Parser.swift`) with limits that make hostile input cheap to refuse: no
/// DTD (so no entity declarations and no expansion — a 700 KB body referencing one internal entity
/// cost 9 s of CPU through libxml2), no processing instructions, UTF-8 only, bounded nesting,
/// element count and size; and a tree whose building, serialising and freeing never recurse deeper
/// than the nesting limit (tens of thousands of nested elements crashed the collector through
/// FoundationXML with a stack overflow).
///
/// Why not FoundationXML's XMLParser: its fuzz target found two inputs that crash it (element names
/// that are not UTF-8, a processing instruction without data), one that crashes libxml2 under it
/// (`encoding="utf-7"`), and a leak of every error it reports (megabytes per body of repeated
/// namespace errors). This parser is small enough to read whole, uses only the standard library,
/// and is fuzzed by `scripts/fuzz-xml`, which compiles these two files on their own.
public enum BoundedXML {
    public struct Limits: Sendable {
        /// WebDAV bodies nest 4–6 deep (propertyupdate/set/prop/property/value…); 32 leaves room for
        /// structured property values.
        public var maximumDepth: Int
        public var maximumElements: Int
        public var maximumBytes: Int

        public static let standard = Limits()

        public init(maximumDepth: Int = 32, maximumElements: Int = 10_000, maximumBytes: Int = 1 << 20) {
            self.maximumDepth = maximumDepth
            self.maximumElements = maximumElements
            self.maximumBytes = maximumBytes
        }
    }

    public final class Element {
        /// The namespace URI ("" for none) and the local name.
        public let namespace: String
        public let name: String
        /// Attributes without a prefix (namespaced ones are dropped: no WebDAV property in use relies
        /// on them), namespace declarations excluded.
        public let attributes: [String: String]
        public internal(set) var children: [Node] = []

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

    /// The document's root element; `Malformed` naming the problem (and the byte offset) otherwise.
    public static func parse(_ data: Data, limits: Limits = .standard) throws -> Element {
        guard data.count <= limits.maximumBytes else { throw Malformed("larger than \(limits.maximumBytes) bytes") }
        var parser = Parser(bytes: [UInt8](data), limits: limits)
        return try parser.document()
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

    /// Escapes by Unicode scalar, not by `Character`: `replacingOccurrences(of: "<")` compares
    /// grapheme clusters and so missed a `<` followed by a combining mark (found by the fuzzer),
    /// which then stood unescaped in the output.
    public static func escape(_ text: String, quotes: Bool = false) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"" where quotes: escaped.append(contentsOf: "&quot;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

}
