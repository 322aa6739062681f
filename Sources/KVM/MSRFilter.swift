import CKVM

/// A KVM_X86_SET_MSR_FILTER argument: MSRs outside every range are denied (DEFAULT_DENY);
/// within a range, a set bit lets the access through to KVM's own handling and a clear bit
/// denies it. A denied RDMSR/WRMSR exits to user space with KVM_MSR_EXIT_REASON_FILTER (when
/// that reason is enabled) instead of running (Documentation/virt/kvm/api.rst
/// "KVM_X86_SET_MSR_FILTER"; the x2APIC MSRs 0x800–0x8FF are never filtered, x86.c
/// `kvm_msr_allowed`).
public struct MSRFilter: Equatable, Sendable {
    public struct Range: Equatable, Sendable {
        public let base: UInt32
        /// Bit n: MSR base + n is allowed.
        public var bitmap: [UInt8]
        public let isWrite: Bool

        public init(base: UInt32, count: Int, isWrite: Bool, allows: (UInt32) -> Bool) {
            self.base = base
            self.isWrite = isWrite
            var bitmap = [UInt8](repeating: 0, count: (count + 7) / 8)
            for offset in 0..<count where allows(base &+ UInt32(offset)) { bitmap[offset / 8] |= 1 << (offset % 8) }
            self.bitmap = bitmap
        }

        public var count: Int { bitmap.count * 8 }

        public func allows(_ index: UInt32) -> Bool {
            guard index >= base, Int(index - base) < count else { return false }
            let offset = Int(index - base)
            return bitmap[offset / 8] & (1 << (offset % 8)) != 0
        }
    }

    public var ranges: [Range]

    public init(ranges: [Range]) { self.ranges = ranges }

    /// KVM takes at most 16 ranges of at most 0x600 bitmap bytes each (uapi asm/kvm.h
    /// KVM_MSR_FILTER_MAX_RANGES, KVM_MSR_FILTER_MAX_BITMAP_SIZE).
    public static let maximumRanges = 16
    public static let maximumBitmapBytes = 0x600

    /// Whether the filter lets this access reach KVM.
    public func allows(_ index: UInt32, isWrite: Bool) -> Bool {
        ranges.contains { $0.isWrite == isWrite && $0.allows(index) }
    }
}

extension VirtualMachine {
    /// KVM_X86_SET_MSR_FILTER with KVM_MSR_FILTER_DEFAULT_DENY and `filter`'s ranges.
    public func setMSRFilter(_ filter: MSRFilter) throws(KVMError) {
        guard filter.ranges.count <= MSRFilter.maximumRanges,
            filter.ranges.allSatisfy({ $0.bitmap.count <= MSRFilter.maximumBitmapBytes })
        else { throw .invalidArgument("KVM_X86_SET_MSR_FILTER takes at most 16 ranges of 0x600 bitmap bytes") }
        // One buffer holds every bitmap; KVM copies them during the ioctl.
        let total = filter.ranges.reduce(0) { $0 + $1.bitmap.count }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var request = kvm_msr_filter()
        request.flags = UInt32(KVM_MSR_FILTER_DEFAULT_DENY)
        withUnsafeMutableBytes(of: &request.ranges) { raw in
            // SAFETY: ranges is a C array of KVM_MSR_FILTER_MAX_RANGES entries; at most that many are written (checked above).
            let ranges = raw.bindMemory(to: kvm_msr_filter_range.self)
            var offset = 0
            for (i, range) in filter.ranges.enumerated() {
                let bitmap = storage + offset
                // SAFETY: `total` bytes were allocated; this range's bytes start at `offset`.
                range.bitmap.withUnsafeBufferPointer { if let base = $0.baseAddress { bitmap.update(from: base, count: $0.count) } }
                offset += range.bitmap.count
                ranges[i].flags = UInt32(range.isWrite ? KVM_MSR_FILTER_WRITE : KVM_MSR_FILTER_READ)
                ranges[i].nmsrs = UInt32(range.count)
                ranges[i].base = range.base
                ranges[i].bitmap = bitmap
            }
        }
        _ = try kvmIoctl(fd, CKVM_IOCTL_X86_SET_MSR_FILTER, "KVM_X86_SET_MSR_FILTER", &request)
    }
}
