/// Where the data of a string-IO or MMIO event lives, after KVM's
/// `setup_vmgexit_scratch` checks (arch/x86/kvm/svm/sev.c).
public enum GHCBScratchArea: Sendable, Hashable {
    /// Inside the GHCB's shared buffer: KVM works on the mapped page in place.
    case ghcbSharedBuffer(offset: Int, length: Int)
    /// Elsewhere in guest memory: KVM copies `length` bytes in (`kvm_read_guest`),
    /// and back out after an IN or MMIO read. A GPA the host cannot read makes
    /// KVM_RUN fail with EFAULT, which the runner decides, not this module.
    case guestMemory(gpa: UInt64, length: UInt64)

    /// `GHCB_SCRATCH_AREA_LIMIT`: 16 pages, the most KVM copies from outside the GHCB.
    public static let outsideGHCBLimit: UInt64 = 16 * 4096

    public var length: UInt64 {
        switch self {
        case let .ghcbSharedBuffer(_, length): UInt64(length)
        case let .guestMemory(_, length): length
        }
    }

    /// Locates `length` bytes at SW_SCRATCH, in KVM's order:
    /// 1. SW_SCRATCH = 0 → INVALID_SCRATCH_AREA;
    /// 2. SW_SCRATCH + length wraps → INVALID_SCRATCH_AREA;
    /// 3. SW_SCRATCH in the GHCB's page: the whole range must lie in the shared
    ///    buffer, 0x800..<0xFF0 → else INVALID_SCRATCH_AREA;
    /// 4. elsewhere: length above 16 pages → INVALID_SCRATCH_AREA.
    ///
    /// A zero length passes, as in KVM (the event then moves no data).
    public static func locate(scratch: UInt64, length: UInt64, ghcbGPA: UInt64) throws(GHCBMalformedInput) -> GHCBScratchArea {
        guard scratch != 0 else { throw .invalidScratchArea }
        let (end, wrapped) = scratch.addingReportingOverflow(length)
        guard !wrapped else { throw .invalidScratchArea }
        let pageMask = ~UInt64(GHCBLayout.pageSize - 1)
        if scratch & pageMask == ghcbGPA {
            let bufferStart = ghcbGPA + UInt64(GHCBLayout.sharedBufferOffset)
            let bufferEnd = ghcbGPA + UInt64(GHCBLayout.sharedBufferEnd)
            guard scratch >= bufferStart, end <= bufferEnd else { throw .invalidScratchArea }
            return .ghcbSharedBuffer(offset: Int(scratch - ghcbGPA), length: Int(length))
        }
        guard length <= outsideGHCBLimit else { throw .invalidScratchArea }
        return .guestMemory(gpa: scratch, length: length)
    }
}
