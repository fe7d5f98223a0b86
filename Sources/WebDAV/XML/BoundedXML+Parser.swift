import Foundation

extension BoundedXML {
    /// A namespace-aware reader of the XML 1.0 subset WebDAV bodies use: an optional UTF-8 XML
    /// declaration, comments, elements with attributes, character data with the five predefined
    /// entities and character references, and CDATA sections. Everything else (a DTD, a processing
    /// instruction, another encoding, an undeclared prefix, a control character) is refused with the
    /// byte offset. One pass over the bytes, an explicit stack of open elements, no recursion.
    package struct Parser {
        let bytes: [UInt8]
        let limits: Limits
        var position = 0
        var elementCount = 0

        private struct Open {
            let element: Element
            let qualifiedName: ArraySlice<UInt8>
            /// Prefix → namespace declared on this element ("" is the default namespace).
            let declared: [String: String]
        }
        private var open: [Open] = []

        static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        mutating func document() throws -> Element {
            guard String(validating: bytes, as: UTF8.self) != nil else { throw Malformed("not valid UTF-8") }
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
            if starts(with: "<?xml") { try declaration() }
            try misc()
            guard starts(with: "<"), position + 1 < bytes.count, isNameStart(bytes[position + 1]) else {
                throw fail("no root element")
            }
            let root = try content()
            try misc()
            guard position == bytes.count else { throw fail("content after the root element") }
            return root
        }

        // MARK: - Prolog

        private mutating func declaration() throws {
            guard let end = find("?>") else { throw fail("the XML declaration is not closed") }
            let text = String(decoding: bytes[(position + 5)..<end], as: UTF8.self)
            guard text.first?.isWhitespace ?? false, !text.contains("<") else { throw fail("a bad XML declaration") }
            let lowered = text.lowercased()
            if lowered.contains("encoding"),
                !(lowered.contains("encoding=\"utf-8\"") || lowered.contains("encoding='utf-8'"))
            {
                throw fail("only UTF-8 is accepted (declare encoding=\"utf-8\" or none)")
            }
            position = end + 2
        }

        /// Whitespace and comments between the declaration, the root and the end.
        private mutating func misc() throws {
            while position < bytes.count {
                if isSpace(bytes[position]) {
                    position += 1
                } else if starts(with: "<!--") {
                    try comment()
                } else if starts(with: "<!DOCTYPE") || starts(with: "<!ENTITY") {
                    throw fail("refused: document type and entity declarations are not accepted")
                } else if starts(with: "<?") {
                    throw fail("refused: processing instructions are not accepted")
                } else {
                    return
                }
            }
        }

        private mutating func comment() throws {
            guard let end = find("-->", from: position + 4) else { throw fail("a comment is not closed") }
            position = end + 3
        }

        // MARK: - Elements

        /// From the root's `<` to its end tag.
        private mutating func content() throws -> Element {
            let root = try startTag()
            var text: [UInt8] = []
            func flushText() {
                guard !text.isEmpty, let parent = open.last?.element else { return }
                let string = String(decoding: text, as: UTF8.self)
                if case .text(let previous) = parent.children.last {
                    parent.children[parent.children.count - 1] = .text(previous + string)
                } else {
                    parent.children.append(.text(string))
                }
                text.removeAll(keepingCapacity: true)
            }
            while !open.isEmpty {
                guard position < bytes.count else { throw fail("the document ends inside <\(openName)>") }
                let byte = bytes[position]
                if byte == UInt8(ascii: "<") {
                    if starts(with: "</") {
                        flushText()
                        try endTag()
                    } else if starts(with: "<!--") {
                        try comment()
                    } else if starts(with: "<![CDATA[") {
                        guard let end = find("]]>", from: position + 9) else {
                            throw fail("a CDATA section is not closed")
                        }
                        let section = bytes[(position + 9)..<end]
                        try checkCharacters(section)
                        text.append(contentsOf: normalizedLineEnds(section))
                        position = end + 3
                    } else if starts(with: "<!") {
                        throw fail("refused: document type and entity declarations are not accepted")
                    } else if starts(with: "<?") {
                        throw fail("refused: processing instructions are not accepted")
                    } else {
                        flushText()
                        try startTag()
                    }
                } else if byte == UInt8(ascii: "&") {
                    text.append(contentsOf: try reference())
                } else {
                    guard isCharacter(byte) else { throw fail("a control character (0x\(String(byte, radix: 16)))") }
                    if byte == 0x0D {
                        text.append(0x0A)
                        if position + 1 < bytes.count, bytes[position + 1] == 0x0A { position += 1 }
                    } else {
                        text.append(byte)
                    }
                    position += 1
                }
            }
            return root
        }

        private var openName: String {
            open.last.map { String(decoding: $0.qualifiedName, as: UTF8.self) } ?? ""
        }

        @discardableResult
        private mutating func startTag() throws -> Element {
            position += 1
            let qualified = try name()
            var raw: [(name: ArraySlice<UInt8>, value: String)] = []
            var selfClosing = false
            while true {
                let spaced = skipSpace()
                guard position < bytes.count else { throw fail("the document ends inside a start tag") }
                if bytes[position] == UInt8(ascii: ">") {
                    position += 1
                    break
                }
                if starts(with: "/>") {
                    position += 2
                    selfClosing = true
                    break
                }
                guard spaced else { throw fail("attributes must be separated by whitespace") }
                let attribute = try name()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else {
                    throw fail("an attribute without a value")
                }
                position += 1
                skipSpace()
                let value = try attributeValue()
                guard !raw.contains(where: { $0.name.elementsEqual(attribute) }) else {
                    throw fail("a repeated attribute")
                }
                raw.append((attribute, value))
                guard raw.count <= 256 else { throw fail("more than 256 attributes on one element") }
            }
            elementCount += 1
            guard elementCount <= limits.maximumElements else {
                throw fail("more than \(limits.maximumElements) elements")
            }
            guard open.count < limits.maximumDepth else {
                throw fail("nested deeper than \(limits.maximumDepth) elements")
            }

            var declared: [String: String] = [:]
            var plain: [String: String] = [:]
            for (attribute, value) in raw {
                let text = String(decoding: attribute, as: UTF8.self)
                if text == "xmlns" {
                    declared[""] = value
                } else if text.hasPrefix("xmlns:") {
                    let prefix = String(text.dropFirst(6))
                    guard !value.isEmpty, !prefix.contains(":"), prefix != "xmlns",
                        prefix != "xml" || value == Parser.xmlNamespace
                    else { throw fail("a bad namespace declaration") }
                    declared[prefix] = value
                } else if !text.contains(":") {
                    plain[text] = value
                }
            }
            let (prefix, local) = split(qualified)
            open.append(
                Open(
                    element: Element(namespace: "", name: "", attributes: [:]), qualifiedName: qualified,
                    declared: declared))
            guard let namespace = resolve(prefix) else {
                throw fail("the prefix \"\(prefix)\" is not declared")
            }
            let element = Element(namespace: namespace, name: local, attributes: plain)
            open[open.count - 1] = Open(element: element, qualifiedName: qualified, declared: declared)
            if open.count > 1 { open[open.count - 2].element.children.append(.element(element)) }
            if selfClosing { open.removeLast() }
            return element
        }

        private mutating func endTag() throws {
            position += 2
            let qualified = try name()
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw fail("a bad end tag") }
            position += 1
            guard let current = open.last, current.qualifiedName.elementsEqual(qualified) else {
                throw fail("</\(String(decoding: qualified, as: UTF8.self))> does not close <\(openName)>")
            }
            open.removeLast()
        }

        /// The namespace a prefix stands for in the innermost scope declaring it.
        private func resolve(_ prefix: String) -> String? {
            if prefix == "xml" { return Parser.xmlNamespace }
            for scope in open.reversed() {
                if let namespace = scope.declared[prefix] { return namespace }
            }
            return prefix.isEmpty ? "" : nil
        }

        private func split(_ qualified: ArraySlice<UInt8>) -> (prefix: String, local: String) {
            guard let colon = qualified.firstIndex(of: UInt8(ascii: ":")) else {
                return ("", String(decoding: qualified, as: UTF8.self))
            }
            return (
                String(decoding: qualified[..<colon], as: UTF8.self),
                String(decoding: qualified[(colon + 1)...], as: UTF8.self)
            )
        }

        /// A name: up to 256 bytes of ASCII letters, digits, `-`, `_`, `.` or non-ASCII UTF-8, in at
        /// most two parts (prefix and local name) separated by one `:`, each starting with a letter, `_`
        /// or a non-ASCII character. (A subset of XML's Name production, enough for every WebDAV body.)
        private mutating func name() throws -> ArraySlice<UInt8> {
            let start = position
            while position < bytes.count, isNameByte(bytes[position]) { position += 1 }
            let name = bytes[start..<position]
            let parts = name.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard !name.isEmpty, name.count <= 256, parts.count <= 2,
                parts.allSatisfy({ part in part.first.map(isNameStart) ?? false })
            else { throw fail("a bad or missing name") }
            return name
        }

        private mutating func attributeValue() throws -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'")
            else { throw fail("an attribute value must be quoted") }
            let quote = bytes[position]
            position += 1
            var value: [UInt8] = []
            while true {
                guard position < bytes.count else { throw fail("an attribute value is not closed") }
                let byte = bytes[position]
                if byte == quote {
                    position += 1
                    return String(decoding: value, as: UTF8.self)
                }
                if byte == UInt8(ascii: "<") { throw fail("< inside an attribute value") }
                if byte == UInt8(ascii: "&") {
                    value.append(contentsOf: try reference())
                    continue
                }
                guard isCharacter(byte) else { throw fail("a control character in an attribute value") }
                // Attribute-value normalisation: each whitespace character (CRLF counting as one)
                // becomes a space.
                value.append(isSpace(byte) ? 0x20 : byte)
                if byte == 0x0D, position + 1 < bytes.count, bytes[position + 1] == 0x0A { position += 1 }
                position += 1
            }
        }

        /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;`; any other entity is refused.
        private mutating func reference() throws -> [UInt8] {
            guard let end = bytes[position..<min(bytes.count, position + 12)].firstIndex(of: UInt8(ascii: ";")) else {
                throw fail("an & that starts no reference (write &amp;)")
            }
            let body = String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
            position = end + 1
            switch body {
            case "lt": return [UInt8(ascii: "<")]
            case "gt": return [UInt8(ascii: ">")]
            case "amp": return [UInt8(ascii: "&")]
            case "quot": return [UInt8(ascii: "\"")]
            case "apos": return [UInt8(ascii: "'")]
            default:
                var value: UInt32?
                if body.hasPrefix("#x"), body.count > 2, body.dropFirst(2).allSatisfy(\.isHexDigit) {
                    value = UInt32(body.dropFirst(2), radix: 16)
                } else if body.hasPrefix("#"), body.count > 1,
                    body.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
                {
                    value = UInt32(body.dropFirst(), radix: 10)
                } else if body.hasPrefix("#") {
                    throw fail("a bad character reference")
                } else {
                    throw fail("refused: the entity &\(body); (only the five predefined ones exist here)")
                }
                guard let value, let scalar = Unicode.Scalar(value), Parser.isXMLCharacter(scalar) else {
                    throw fail("a character reference to no XML character")
                }
                return Array(String(Character(scalar)).utf8)
            }
        }

        // MARK: - Bytes

        @discardableResult
        private mutating func skipSpace() -> Bool {
            let start = position
            while position < bytes.count, isSpace(bytes[position]) { position += 1 }
            return position > start
        }

        private func starts(with text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            return text.withUTF8Buffer { bytes[position..<(position + count)].elementsEqual($0) }
        }

        private func find(_ text: StaticString, from start: Int? = nil) -> Int? {
            let count = text.utf8CodeUnitCount
            var index = start ?? position
            return text.withUTF8Buffer { needle in
                while index + count <= bytes.count {
                    if bytes[index] == needle[0] && bytes[index..<(index + count)].elementsEqual(needle) {
                        return index
                    }
                    index += 1
                }
                return nil
            }
        }

        private func checkCharacters(_ section: ArraySlice<UInt8>) throws {
            if let bad = section.first(where: { !isCharacter($0) }) {
                throw fail("a control character (0x\(String(bad, radix: 16)))")
            }
        }

        private func normalizedLineEnds(_ section: ArraySlice<UInt8>) -> [UInt8] {
            var result: [UInt8] = []
            result.reserveCapacity(section.count)
            var previousCR = false
            for byte in section {
                if byte == 0x0A && previousCR {
                    previousCR = false
                    continue
                }
                previousCR = byte == 0x0D
                result.append(previousCR ? 0x0A : byte)
            }
            return result
        }

        private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

        /// Bytes XML 1.0 allows: no C0 controls but tab, LF and CR (the UTF-8 check came first).
        private func isCharacter(_ byte: UInt8) -> Bool { byte >= 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

        private func isNameByte(_ byte: UInt8) -> Bool {
            isNameStart(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: ":")
        }

        private func isNameStart(_ byte: UInt8) -> Bool {
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
        }

        static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
            default: false
            }
        }

        private func fail(_ problem: String) -> Malformed {
            Malformed("not accepted XML at byte \(position): \(problem)")
        }
    }
}
