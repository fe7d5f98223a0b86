/// The release both programs report: `--version`, the agent's heartbeat, the admin's agent list.
/// One constant for both, because the agent and the collector ship together.
public enum ProductVersion {
    public static let current = "0.5.0"
}
