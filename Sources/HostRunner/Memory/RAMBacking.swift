import GuestPhysical
import KVM

/// Where guest RAM lives: the one decision between guest_memfd and its memfd stand-in, made
/// once per run from the probe (and the user's choice), and the one place that binds a
/// file of either kind to a memslot. Everything above it — views, population, discards,
/// the page-state model — is the same code for both, so the guest meets the same answers
/// and faults on every host.
public struct RAMBacking: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// KVM_CREATE_GUEST_MEMFD with GUEST_MEMFD_FLAG_MMAP | INIT_SHARED, bound with
        /// KVM_SET_USER_MEMORY_REGION2 and KVM_MEM_GUEST_MEMFD, written through its mmap.
        case guestMemfd = "guest_memfd"
        /// memfd_create behind a plain memslot: the stand-in for kernels whose default VM
        /// cannot use guest_memfd (docs/host-support.md).
        case memfd
    }

    /// The ioctl that binds a memslot.
    public enum MemslotCall: String, Sendable, Codable {
        case region2 = "KVM_SET_USER_MEMORY_REGION2"
        case region = "KVM_SET_USER_MEMORY_REGION"
    }

    public let kind: Kind
    public let memslotCall: MemslotCall
    /// Why this backing: what the probe found, or that it was asked for.
    public let reason: String

    public init(kind: Kind, memslotCall: MemslotCall, reason: String) {
        self.kind = kind
        self.memslotCall = memslotCall
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue) (\(memslotCall.rawValue))" }

    /// A new file of this kind for `range`, bound as memslot `slot` over it, with the host
    /// mapping the memslot points at (it keeps the file alive). guest_memfd also serves the
    /// slot's private accesses; KVM enforces none on a default VM, so both kinds behave the same.
    func slot(vm: VirtualMachine, slot: UInt32, range: GPARange, name: String) throws(KVMError) -> GuestMapping {
        switch kind {
        case .guestMemfd:
            let memfd = try vm.createGuestMemfd(size: range.size, flags: [.mmap, .initShared])
            let mapping = try memfd.map()
            try vm.setUserMemoryRegion2(
                slot: slot, flags: [.guestMemfd], guestPhysicalAddress: range.start, size: range.size,
                userspaceAddress: mapping.userspaceAddress, guestMemfd: memfd, guestMemfdOffset: 0)
            return mapping
        case .memfd:
            let mapping = try Memfd(name: "enlighten-\(name)", size: range.size).map()
            switch memslotCall {
            case .region2:
                try vm.setUserMemoryRegion2(
                    slot: slot, guestPhysicalAddress: range.start, size: range.size,
                    userspaceAddress: mapping.userspaceAddress)
            case .region:
                try vm.setUserMemoryRegion(
                    slot: slot, guestPhysicalAddress: range.start, size: range.size,
                    userspaceAddress: mapping.userspaceAddress)
            }
            return mapping
        }
    }
}
