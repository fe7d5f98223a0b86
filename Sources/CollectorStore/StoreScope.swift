import CollectorCore
import Foundation
import RecorderCore
import WebDAV

/// Where an agent may read and write in the built-in store, and which names nobody may use.
///
/// Comparisons are of bytes, not Swift strings: `String ==` treats canonically equivalent Unicode as
/// equal ("é" precomposed and decomposed), while the file system keeps them as different directories,
/// so a look-alike name would pass the check and land somewhere else.
enum StoreScope {
    /// An agent's area: `{node path}/{yyyy}/{mm}/{dd}/{agent id}/...`. `ancestorsAllowed` also admits
    /// the collections above it (an agent makes and looks at them, never writes into them).
    static func authorize(_ access: StoreAPI.Access, _ path: StorePath, write: Bool, ancestorsAllowed: Bool) throws {
        if case .integration(let integration) = access {
            // A phone system's drop area: voice-drop/{integration}/..., nothing else.
            let area = [Array(VoiceDrop.root.utf8), Array(integration.name.utf8)]
            let components = path.components.map { Array($0.utf8) }
            let prefixOK = zip(components, area).allSatisfy { $0 == $1 }
            guard prefixOK, components.count > area.count || (ancestorsAllowed && !write) else {
                throw CollectorError(
                    .forbidden,
                    "integration \(integration.name) may write only under /\(VoiceDrop.root)/\(integration.name)/, not \(path)")
            }
            return
        }
        guard case .agent(let agent) = access else { return }
        let node = agent.nodePath.split(separator: "/").map { Array($0.utf8) }
        let components = path.components.map { Array($0.utf8) }
        func matches(_ index: Int, _ component: [UInt8]) -> Bool {
            if index < node.count { return component == node[index] }
            switch index - node.count {
            case 0: return component.count == 4 && component.allSatisfy(isASCIIDigit)
            case 1, 2: return component.count == 2 && component.allSatisfy(isASCIIDigit)
            case 3: return component == Array(agent.id.utf8)
            default: return true
            }
        }
        let prefixOK = components.enumerated().allSatisfy { matches($0.offset, $0.element) }
        let inside = components.count > node.count + 4
        guard prefixOK, inside || (ancestorsAllowed && !write) else {
            throw CollectorError(
                .forbidden,
                "agent \(agent.id) may write only under \(agent.nodePath)/YYYY/MM/DD/\(agent.id)/, not \(path)")
        }
    }

    /// The store's own temporary names are refused from everyone (they are hidden from listings, so a
    /// file under such a name would be invisible); agents get no hidden names at all.
    static func checkNames(_ path: StorePath, access: StoreAPI.Access) throws {
        for component in path.components {
            if component.hasPrefix(BuiltinStore.temporaryPrefix) {
                throw CollectorError(.forbidden, "names beginning with \(BuiltinStore.temporaryPrefix) are the store's own")
            }
            if access.isAdmin == false, component.utf8.first == UInt8(ascii: ".") {
                throw CollectorError(
                    .forbidden, "agents may not use names beginning with \".\" (\(component)); they would be hidden")
            }
        }
    }

    private static func isASCIIDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
