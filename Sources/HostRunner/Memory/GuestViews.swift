import KVM
import Payload

/// The guest's two views of its RAM where KVM itself enforces no private memory, each a
/// memslot over a mapping of its own whose protection follows the page-state model, so an
/// access the platform would not let through does not reach memory: it exits (as
/// KVM_EXIT_MMIO here) for the runner to answer as the platform does.
///
/// TDX: the private view is guest_memfd at GPA, the shared view a separate backing at
/// GPA | shared bit (as a TDX VMM lays them out). SEV-SNP: one guest_memfd seen at two GPAs,
/// the private view at GPA | C-bit (guest page tables with C=1 reach it) and the shared view
/// at GPA (C=0). A page is open in the private view only while private and validated /
/// accepted, in the shared view only while shared; the host reads and writes through mappings
/// of its own (GuestMemory), never through these.
///
/// `@unchecked Sendable`: immutable after construction; the mappings it protects are kept
/// alive by the Machine, and mprotect is called under the conversion service's lock.
final class GuestViews: @unchecked Sendable {
    let privateView: any HostMemory
    let sharedView: any HostMemory
    /// The GPA bit that tells the views apart: TDX's shared bit, SNP's C-bit.
    let viewBit: UInt64
    /// Whether a set `viewBit` means the private view (SNP) or the shared one (TDX).
    let bitMeansPrivate: Bool

    /// What SNP's encryption shows a guest that reads its private memory with C=0.
    let encryption = MemoryEncryption()

    init(privateView: any HostMemory, sharedView: any HostMemory, viewBit: UInt64, bitMeansPrivate: Bool) {
        self.privateView = privateView
        self.sharedView = sharedView
        self.viewBit = viewBit
        self.bitMeansPrivate = bitMeansPrivate
    }

    /// What a C=0 read of private memory returns on SEV-SNP: the ciphertext of each byte.
    func ciphertext(at gpa: UInt64, into data: ExitBytes, memory: GuestMemory) {
        for offset in 0..<data.count {
            let address = gpa &+ UInt64(offset)
            data[offset] = encryption.ciphertext(of: memory.load(UInt8.self, at: address) ?? 0, at: address)
        }
    }

    /// Whether `address` names the private view, and the GPA it names in either.
    func decode(_ address: ViewAddress) -> (privateView: Bool, gpa: UInt64) {
        ((address.raw & viewBit != 0) == bitMeansPrivate, address.raw & ~viewBit)
    }

    /// Opens or closes each run's pages in both views as its state allows.
    func apply(_ runs: [PageStateMap.Run]) throws(KVMError) {
        for run in runs { try apply(run) }
    }

    /// Opens or closes one run's pages in both views.
    func apply(_ run: PageStateMap.Run) throws(KVMError) {
        guard run.range.isWithinAddressSpace else { return }
        let offset = Int(run.range.start), length = Int(run.range.size)
        let privateOpen = run.page.state == .private && run.page.acceptance != .pending
        try privateView.protect(offset: offset, length: length, readWrite: privateOpen)
        try sharedView.protect(offset: offset, length: length, readWrite: run.page.state == .shared)
    }
}
