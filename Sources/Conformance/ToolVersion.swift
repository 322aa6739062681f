/// The version of Enlighten, as `enlighten --version` prints it and every report records it.
/// Raised by hand with each release; CHANGELOG-free on purpose: git history is the record.
public enum ToolVersion {
    public static let current = "0.5.0"
}
