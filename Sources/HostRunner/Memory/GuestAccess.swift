/// A guest's data access, as the runner's view enforcement sees it (its words are the case names).
public enum GuestAccess: String, Sendable, Hashable {
    case read
    case write
}
