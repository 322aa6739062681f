/// The four argument registers of KVM_HC_MAP_GPA_RANGE.
public struct MapGPARangeArguments: Sendable, Hashable {
    public var nr: UInt64
    public var gpa: UInt64
    public var npages: UInt64
    public var attributes: UInt64

    public init(nr: UInt64, gpa: UInt64, npages: UInt64, attributes: UInt64) {
        self.nr = nr
        self.gpa = gpa
        self.npages = npages
        self.attributes = attributes
    }
}
