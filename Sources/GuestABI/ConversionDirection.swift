/// Which side of the private/shared split the guest wants a range on.
public enum ConversionDirection: Sendable, Hashable {
    case toPrivate
    case toShared
}
