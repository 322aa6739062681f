/// The hypervisor's answer to a decoded `GHCBEvent`, written into the GHCB as KVM
/// leaves it (sev.c `sev_handle_vmgexit` sets SW_EXITINFO1 = 0 and SW_EXITINFO2 = 0
/// before serving; `sev_es_sync_to_ghcb` writes RAX, RBX, RCX, RDX back).
public enum GHCBEventAnswer: Sendable, Hashable {
    /// Served, nothing to return (OUT, OUTS, WRMSR, MMIO write).
    case done
    /// IN: the port's value. KVM merges a 1- or 2-byte value into the guest's RAX
    /// and zero-extends a 4-byte one (x86.c `complete_fast_pio_in`: "For size less
    /// than 4 we merge, else we zero extend").
    case portIn(value: UInt32)
    /// INS or MMIO read: exactly the scratch area's bytes.
    case scratchData([UInt8])
    /// RDMSR: EAX = bits 31:0, EDX = bits 63:32 (x86.c `complete_fast_rdmsr`).
    case msrRead(value: UInt64)
    /// CPUID: the four registers, zero-extended into RAX, RBX, RCX, RDX.
    case cpuid(eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)
    /// HV_FEATURES: the bitmap goes to SW_EXITINFO2.
    case hypervisorFeatures(UInt64)
    /// An MSR the hypervisor refuses: KVM asks the guest to raise #GP
    /// (svm.c `svm_complete_emulated_msr` → SW_EXITINFO1 = 1,
    /// SW_EXITINFO2 = 0x8000030D).
    case generalProtection
    /// SW_EXITINFO1 = 2, SW_EXITINFO2 = the code.
    case malformed(GHCBMalformedInput)

    /// Writes the answer to `event` into `page`. Scratch data for an area inside the
    /// GHCB is written into the page; for an area in other guest memory the bytes
    /// and their GPA are returned for the runner to write (KVM's `kvm_write_guest`
    /// in `sev_es_unmap_ghcb`).
    ///
    /// A data answer whose length is not the scratch area's, or an answer that does
    /// not fit the event, is a programming error.
    @discardableResult
    public func write(to page: inout GHCBPage, for event: GHCBEvent) -> (gpa: UInt64, bytes: [UInt8])? {
        switch self {
        case .done:
            GHCBExitHandler.complete(&page, exitInfo1: GHCBResponse.noAction, exitInfo2: 0)
        case let .portIn(value):
            guard case let .portIn(_, size, rax) = event else { preconditionFailure("portIn answer for \(event)") }
            let merged: UInt64 =
                size < 4
                ? (rax & ~((1 << UInt64(size * 8)) - 1)) | (UInt64(value) & ((1 << UInt64(size * 8)) - 1))
                : UInt64(value)
            GHCBExitHandler.complete(&page, exitInfo1: GHCBResponse.noAction, exitInfo2: 0, rax: merged)
        case let .scratchData(bytes):
            let area: GHCBScratchArea
            switch event {
            case let .stringPortIn(_, _, _, scratch), let .mmioRead(_, _, scratch): area = scratch
            default: preconditionFailure("scratch data answer for \(event)")
            }
            precondition(UInt64(bytes.count) == area.length, "scratch data of \(bytes.count) bytes for an area of \(area.length)")
            var writeBack: (gpa: UInt64, bytes: [UInt8])?
            switch area {
            case let .ghcbSharedBuffer(offset, _):
                for (index, byte) in bytes.enumerated() { page.store(byte, at: offset + index) }
            case let .guestMemory(gpa, _):
                writeBack = (gpa, bytes)
            }
            GHCBExitHandler.complete(&page, exitInfo1: GHCBResponse.noAction, exitInfo2: 0)
            return writeBack
        case let .msrRead(value):
            GHCBExitHandler.complete(
                &page, exitInfo1: GHCBResponse.noAction, exitInfo2: 0, rax: value & 0xFFFF_FFFF, rdx: value >> 32)
        case let .cpuid(eax, ebx, ecx, edx):
            GHCBExitHandler.complete(
                &page, exitInfo1: GHCBResponse.noAction, exitInfo2: 0,
                rax: UInt64(eax), rbx: UInt64(ebx), rcx: UInt64(ecx), rdx: UInt64(edx))
        case let .hypervisorFeatures(bitmap):
            GHCBExitHandler.complete(&page, exitInfo1: GHCBResponse.noAction, exitInfo2: bitmap)
        case .generalProtection:
            GHCBExitHandler.complete(
                &page, exitInfo1: GHCBResponse.issueException, exitInfo2: GHCBResponse.injectGeneralProtection)
        case let .malformed(code):
            GHCBExitHandler.complete(&page, exitInfo1: GHCBResponse.malformedInput, exitInfo2: code.rawValue)
        }
        return nil
    }
}
