import Foundation
import RecorderCore
import SQLKit

/// What a signed-in user may see and do, enforced where the data is read (the API and the catalog's
/// queries), never only in the pages:
///
/// * admin: everything.
/// * supervisor, QA: the calls with a leg at a workstation enrolled under one of their node paths
///   (`/emea/paris` covers `/emea/paris/sales`, not `/emea/parisian`); of those calls' screen, only
///   what their own workstations recorded.
/// * agent: the calls with a leg at their own workstation, once an admin links one; nothing otherwise.
///
/// A call outside someone's reach answers 404, as if it did not exist: its id says nothing.
public struct Access: Sendable {
    public let user: Users.User

    public init(_ user: Users.User) { self.user = user }

    public var isAdmin: Bool { user.role == .admin && !user.disabled }

    /// Whether a workstation at `nodePath` is in reach.
    public func covers(nodePath: String) -> Bool {
        guard !user.disabled else { return false }
        switch user.role {
        case .admin: return true
        case .agent: return false
        case .supervisor, .qa:
            return user.scopes.contains { scope in
                scope == "/" || nodePath == scope || nodePath.hasPrefix(scope + "/")
            }
        }
    }

    /// Whether a workstation's recordings are in reach.
    public func covers(workstation: String, nodePath: String?) -> Bool {
        if isAdmin { return true }
        if user.role == .agent { return !user.disabled && user.workstation == workstation }
        return nodePath.map(covers(nodePath:)) ?? false
    }

    /// A condition on a workstation id column: true when that workstation is in reach (nil: no limit).
    func workstationCondition(_ column: String) -> SQLQueryString? {
        if isAdmin { return nil }
        switch user.role {
        // Not `isAdmin`, so disabled: nothing.
        case .admin: return "1 = 0"
        case .agent:
            guard let workstation = user.workstation, !user.disabled else { return "1 = 0" }
            return "\(unsafeRaw: column) = \(bind: workstation)"
        case .supervisor, .qa:
            guard !user.disabled, !user.scopes.isEmpty else { return "1 = 0" }
            if user.scopes.contains("/") { return "\(unsafeRaw: column) IN (SELECT id FROM agents)" }
            // substr, not LIKE: node paths may hold `_`, which LIKE reads as a wildcard.
            let each: [SQLQueryString] = user.scopes.map { scope in
                "(a.node_path = \(bind: scope) OR substr(a.node_path, 1, CAST(\(bind: scope.utf8.count + 1) AS INTEGER)) = \(bind: scope + "/"))"
            }
            return "\(unsafeRaw: column) IN (SELECT a.id FROM agents a WHERE " + each.joined(separator: " OR ") + ")"
        }
    }

    /// A condition on the calls table (alias `c`): the call has a leg at a workstation in reach.
    func callCondition() -> SQLQueryString? {
        guard let workstations = workstationCondition("l.workstation") else { return nil }
        return
            "EXISTS (SELECT 1 FROM call_legs l WHERE l.integration = c.integration AND l.interaction_id = c.interaction_id AND "
            + workstations + ")"
    }
}

extension Collector {
    /// The node path each of these workstations enrolled at (revoked ones too: their recordings stay).
    func nodePaths(ofWorkstations ids: Set<String>) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var paths: [String: String] = [:]
        for row in try await catalog.sql.raw("SELECT id, node_path FROM agents WHERE id IN (\(binds: ids.sorted()))").all() {
            paths[try row.decode(column: "id", as: String.self)] = try row.decode(column: "node_path", as: String.self)
        }
        return paths
    }

    /// Whether `access` reaches the call: admins always; others when one of its legs (or, for a softphone
    /// transfer's view, one of its calls' legs) was taken at a workstation in reach.
    public func reaches(_ access: Access, call: CallRecord) async throws -> Bool {
        if access.isAdmin { return true }
        let workstations = Set(call.legs.compactMap(\.workstation))
        let paths = try await nodePaths(ofWorkstations: workstations)
        return workstations.contains { access.covers(workstation: $0, nodePath: paths[$0]) }
    }

    /// The timeline as `access` may see it, or nil when the call is out of reach (or unknown). Screen
    /// segments recorded at workstations out of reach are left out; the legs still say who was there.
    public func timeline(_ interactionId: String, integration: String? = nil, for access: Access, now: Date = Date())
        async throws -> CallTimeline?
    {
        guard var timeline = try await timeline(interactionId, integration: integration, now: now) else { return nil }
        if access.isAdmin { return timeline }
        let workstations = Set(timeline.legs.compactMap(\.workstation) + timeline.screen.map(\.agentId))
        let paths = try await nodePaths(ofWorkstations: workstations)
        func inReach(_ leg: CallTimeline.Leg) -> Bool {
            leg.workstation.map { access.covers(workstation: $0, nodePath: paths[$0]) } ?? false
        }
        // The call asked for decides: a call joined to it by a transfer guess never opens it.
        guard timeline.legs.contains(where: { $0.interactionId == timeline.interactionId && inReach($0) }) else { return nil }
        // Of a softphone transfer's other calls, those with no leg in reach keep their legs (who was
        // there, when) but not their voice; screens from workstations out of reach are left out.
        let reachedCalls = Set(timeline.legs.filter(inReach).map(\.interactionId))
        let legsOfOthers = Set(timeline.legs.filter { !reachedCalls.contains($0.interactionId) }.map(\.legId))
        timeline.voice.removeAll { legsOfOthers.contains($0.legId) }
        timeline.screen.removeAll { !access.covers(workstation: $0.agentId, nodePath: paths[$0.agentId]) }
        return timeline
    }

    /// The segments recorded at workstations in reach.
    public func inReach(_ segments: [SegmentRecord], for access: Access) async throws -> [SegmentRecord] {
        if access.isAdmin { return segments }
        let paths = try await nodePaths(ofWorkstations: Set(segments.map(\.agentId)))
        return segments.filter { access.covers(workstation: $0.agentId, nodePath: paths[$0.agentId]) }
    }
}
