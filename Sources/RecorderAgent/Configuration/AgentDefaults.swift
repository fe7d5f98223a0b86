import Foundation

/// Defaults that depend on the machine and the user the agent runs as.
public enum AgentDefaults {
    /// `$XDG_STATE_HOME/recorder-agent`, else `~/.local/state/recorder-agent` (systemd's %S for user units).
    public static func stateDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return "\(state)/recorder-agent" }
        return "\(NSHomeDirectory())/.local/state/recorder-agent"
    }

    /// The host name: unique per workstation in a contact center, and what admins recognise.
    public static func agentId() -> String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "agent"
    }
}
