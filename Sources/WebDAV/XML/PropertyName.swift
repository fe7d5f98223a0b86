/// A WebDAV property's name: namespace URI ("" for none) and local name.
package struct PropertyName: Hashable, Sendable {
    package var namespace: String
    package var name: String

    package init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Live properties the store computes; PROPPATCH may not change them (403).
    package var isProtected: Bool { namespace == "DAV:" }
}

/// One instruction of a PROPPATCH body.
package enum PropertyUpdate: Sendable, Equatable {
    case set(PropertyName, valueXML: String)
    case remove(PropertyName)
}
