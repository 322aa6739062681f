import GuestPhysical

/// KVM_HC_MAP_GPA_RANGE: the guest's plain KVM hypercall for conversions.
///
/// Register ABI: RAX = nr, RBX = gpa, RCX = npages (4 KiB), RDX = attributes; the
/// result comes back in RAX (Linux arch/x86/kvm/x86.c, `____kvm_emulate_hypercall`;
/// numbers from include/uapi/linux/kvm_para.h and arch/x86/include/uapi/asm/kvm_para.h).
public enum MapGPARange {
    public static let hypercallNumber: UInt64 = 12

    /// `KVM_MAP_GPA_RANGE_PAGE_SZ_2M` is bit 0 and `_1G` bit 1; we treat bits 3:0 as
    /// the page-size field so that any bit KVM has not defined is caught.
    public static let pageSizeMask: UInt64 = 0xF
    public static let pageSize2M: UInt64 = 1 << 0
    public static let pageSize1G: UInt64 = 1 << 1
    /// `KVM_MAP_GPA_RANGE_ENC_STAT(1)`: set means encrypted, i.e. private.
    public static let encrypted: UInt64 = 1 << 4
    public static let definedAttributeMask: UInt64 = pageSizeMask | encrypted

    /// Decodes a hypercall the way KVM does, then applies our host's attribute policy.
    ///
    /// KVM's order: mask to 32 bits outside long mode, CPL != 0 → EPERM, unknown nr →
    /// ENOSYS, then unaligned gpa / npages == 0 / frame-number wrap → EINVAL. KVM does
    /// not look at the attributes at all; our host refuses bits 63:5 and page-size
    /// values above 2 with EINVAL after KVM's own checks, so that a guest sending junk
    /// is told so instead of having it silently ignored.
    public static func decode(
        nr: UInt64, a0 gpa: UInt64, a1 npages: UInt64, a2 attributes: UInt64,
        longMode: Bool, cpl: UInt8 = 0, origin: ConversionInterface = .kvmHypercall
    ) throws(KVMHypercallError) -> ConversionRequest {
        let mask: UInt64 = longMode ? .max : 0xFFFF_FFFF
        let nr = nr & mask, gpa = gpa & mask, npages = npages & mask, attributes = attributes & mask
        guard cpl == 0 else { throw .notPermitted }
        guard nr == hypercallNumber else { throw .notImplemented(nr: nr) }
        guard gpa & (GPARange.frameSize - 1) == 0 else { throw .invalidArgument(.unalignedAddress) }
        guard npages != 0 else { throw .invalidArgument(.zeroPages) }
        let range: GPARange
        do {
            range = try GPARange(start: gpa, pageCount: npages)
        } catch {
            throw .invalidArgument(.wraps)
        }
        guard attributes & ~definedAttributeMask == 0 else { throw .invalidArgument(.reservedAttributes) }
        let pageSize: PageSize
        switch attributes & pageSizeMask {
        case 0: pageSize = .size4K
        case pageSize2M: pageSize = .size2M
        case pageSize1G: pageSize = .size1G
        default: throw .invalidArgument(.unknownPageSize)
        }
        let direction: ConversionDirection = attributes & encrypted != 0 ? .toPrivate : .toShared
        return ConversionRequest(range: range, direction: direction, pageSize: pageSize, origin: origin)
    }

    /// The attribute word KVM would put in `args[2]` for this request.
    public static func attributes(for request: ConversionRequest) -> UInt64 {
        let size: UInt64 =
            switch request.pageSize {
            case .size4K: 0
            case .size2M: pageSize2M
            case .size1G: pageSize1G
            }
        return size | (request.direction == .toPrivate ? encrypted : 0)
    }

    /// The registers a guest (or a test stub) loads to ask for `request`.
    /// Every request a decoder makes names at most 2^64 − 1 frames, so npages is exact.
    public static func encode(_ request: ConversionRequest) -> MapGPARangeArguments {
        MapGPARangeArguments(
            nr: hypercallNumber, gpa: request.start, npages: UInt64(clamping: request.pageCount),
            attributes: attributes(for: request))
    }

    /// The RAX value for a decoded request the host has serviced.
    public static func returnValue(for outcome: ConversionOutcome, longMode: Bool) -> UInt64 {
        switch outcome {
        case .converted: 0
        case .outsideGuestMemory: KVMHypercallError.badAddress.returnValue(longMode: longMode)
        case .invalidRequest, .hostFailure: KVMHypercallError.refused.returnValue(longMode: longMode)
        }
    }
}
