import GuestABI
import GuestPhysical

/// KVM_HC_MAP_GPA_RANGE restated from Linux, independently of MapGPARange: x86.c
/// kvm_emulate_hypercall (arguments masked to 32 bits outside long mode; CPL != 0 →
/// -KVM_EPERM before anything else; an unknown nr → -KVM_ENOSYS; for MAP_GPA_RANGE an
/// unaligned gpa, npages == 0 or a wrapping frame range → -KVM_EINVAL), the host's documented
/// attribute policy (bits 63:5 or a page-size field above 2 → -KVM_EINVAL), and its range
/// check (a range not wholly inside guest RAM → -KVM_EFAULT, nothing converted). Error numbers
/// from include/uapi/linux/kvm_para.h: KVM_EPERM 1, KVM_EFAULT 14, KVM_EINVAL 22, KVM_ENOSYS 1000.
enum HypercallOracle {
    enum Answer: Equatable {
        case converted(start: UInt64, upperBound: UInt128, toPrivate: Bool)
        case error(UInt64)
    }

    static func expected(nr: UInt64, gpa: UInt64, npages: UInt64, attributes: UInt64, longMode: Bool, cpl: UInt8, ramEnd: UInt64) -> Answer {
        let mask: UInt64 = longMode ? .max : 0xFFFF_FFFF
        let nr = nr & mask, gpa = gpa & mask, npages = npages & mask, attributes = attributes & mask
        if cpl != 0 { return .error(1) }
        if nr != 12 { return .error(1000) }
        let firstFrame = gpa >> 12
        if gpa & 0xFFF != 0 || npages == 0 || UInt128(firstFrame) + UInt128(npages) > UInt128(UInt64.max) { return .error(22) }
        if attributes >> 5 != 0 || attributes & 0xF > 2 { return .error(22) }
        let upperBound = UInt128(gpa) + UInt128(npages) * 4096
        if upperBound > UInt128(ramEnd) { return .error(14) }
        return .converted(start: gpa, upperBound: upperBound, toPrivate: attributes & 0x10 != 0)
    }

    /// What the guest reads in RAX for an answer.
    static func rax(_ answer: Answer, longMode: Bool) -> UInt64 {
        guard case .error(let number) = answer else { return 0 }
        return longMode ? 0 &- number : (0 &- number) & 0xFFFF_FFFF
    }
}
