import Foundation

/// The XML of PROPFIND and PROPPATCH bodies (RFC 4918 §14), parsed by `BoundedXML` (no DTDs, bounded
/// depth and size), and property values written back as self-contained fragments.
package enum PropertyXML {
    package typealias Malformed = BoundedXML.Malformed

    /// A dead property's value is at most this many bytes of XML (litmus' largest is under 1 KB).
    package static let maximumValueBytes = 16 * 1024

    package enum PropfindRequest: Equatable {
        case allprop
        case propname
        case prop([PropertyName])
    }

    /// An empty body means allprop (RFC 4918 §9.1).
    package static func propfindRequest(_ data: Data) throws -> PropfindRequest {
        guard !data.isEmpty else { return .allprop }
        let root = try BoundedXML.parse(data)
        guard root.is("DAV:", "propfind") else { throw Malformed("the root element must be DAV:propfind") }
        for child in root.elements where child.namespace == "DAV:" {
            switch child.name {
            case "allprop": return .allprop
            case "propname": return .propname
            case "prop": return .prop(child.elements.map { PropertyName(namespace: $0.namespace, name: $0.name) })
            default: continue
            }
        }
        throw Malformed("DAV:propfind needs DAV:allprop, DAV:propname or DAV:prop")
    }

    /// The set and remove instructions of a DAV:propertyupdate, in document order.
    package static func propertyUpdates(_ data: Data) throws -> [PropertyUpdate] {
        let root = try BoundedXML.parse(data)
        guard root.is("DAV:", "propertyupdate") else {
            throw Malformed("the root element must be DAV:propertyupdate")
        }
        var updates: [PropertyUpdate] = []
        for instruction in root.elements where instruction.namespace == "DAV:" {
            guard instruction.name == "set" || instruction.name == "remove" else { continue }
            for prop in instruction.elements where prop.is("DAV:", "prop") {
                for property in prop.elements {
                    let name = PropertyName(namespace: property.namespace, name: property.name)
                    guard name.namespace.utf8.count <= 1024, name.name.utf8.count <= 256 else {
                        throw Malformed("a property name or namespace is too long")
                    }
                    guard instruction.name == "set" else {
                        updates.append(.remove(name))
                        continue
                    }
                    let value = BoundedXML.serialize(property.children)
                    guard value.utf8.count <= maximumValueBytes else {
                        throw Malformed(
                            "the value of \(name.name) is \(value.utf8.count) bytes; at most \(maximumValueBytes) are kept"
                        )
                    }
                    updates.append(.set(name, valueXML: value))
                }
            }
        }
        guard !updates.isEmpty else { throw Malformed("DAV:propertyupdate names no property") }
        return updates
    }

    /// A property element with its namespace declared on itself.
    package static func element(_ property: PropertyName, value: String?) -> String {
        let open = BoundedXML.openTag(namespace: property.namespace, name: property.name)
        guard let value, !value.isEmpty else { return "<\(open.tag)\(open.declaration)/>" }
        return "<\(open.tag)\(open.declaration)>\(value)</\(open.tag)>"
    }
}
