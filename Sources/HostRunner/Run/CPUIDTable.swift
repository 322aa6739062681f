import KVM

/// The CPUID a vCPU sees: what KVM supports, with this vCPU's initial APIC ID, which the
/// runtime's reset path uses as its vCPU index.
enum CPUIDTable {
    static func forVCPU(_ index: Int, supported: [CPUIDEntry]) -> [CPUIDEntry] {
        supported.map { entry in
            var entry = entry
            if entry.function == 1 {
                // EBX[31:24] = initial APIC ID.
                entry.ebx = (entry.ebx & 0x00FF_FFFF) | UInt32(index) << 24
            }
            return entry
        }
    }
}
