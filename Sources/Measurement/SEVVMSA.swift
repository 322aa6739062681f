/// The initial VMSA (SEV-ES save area) QEMU/KVM give a vCPU of an SEV-ES or SEV-SNP guest.
/// Offsets follow Linux arch/x86/include/asm/svm.h `struct sev_es_save_area` (AMD APM vol. 2,
/// table B-4); values are the x86 reset state as KVM sets it, plus what KVM adds (EFER.SVME,
/// CR4.MCE) and QEMU's CPUID signature in RDX.
public enum SEVVMSA {
    public static let pageSize = 4096
    /// The BSP starts at the architectural reset vector.
    public static let resetVectorEIP: UInt32 = 0xFFFF_FFF0

    /// Byte offsets inside the save area.
    public enum Offset {
        public static let es = 0x000, cs = 0x010, ss = 0x020, ds = 0x030, fs = 0x040, gs = 0x050
        public static let gdtr = 0x060, ldtr = 0x070, idtr = 0x080, tr = 0x090
        public static let efer = 0x0D0, cr4 = 0x148, cr3 = 0x150, cr0 = 0x158
        public static let dr7 = 0x160, dr6 = 0x168, rflags = 0x170, rip = 0x178
        public static let gPAT = 0x268, rdx = 0x310, sevFeatures = 0x3B0, xcr0 = 0x3E8
        public static let mxcsr = 0x408, x87FCW = 0x410
    }

    /// A 4 KiB VMSA page for a vCPU that starts at `eip` (real mode: CS base = eip & ~0xFFFF,
    /// IP = eip & 0xFFFF), with SEV_FEATURES = `sevFeatures` and RDX = `vcpuSignature`
    /// (the CPUID(1).EAX value a real CPU leaves in EDX after reset).
    public static func page(eip: UInt32, sevFeatures: UInt64, vcpuSignature: UInt32) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: pageSize)

        func put<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
            for index in 0..<MemoryLayout<T>.size {
                page[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
            }
        }
        // struct vmcb_seg: u16 selector, u16 attrib, u32 limit, u64 base.
        func segment(_ offset: Int, selector: UInt16, attributes: UInt16, limit: UInt32 = 0xFFFF, base: UInt64 = 0) {
            put(selector, at: offset)
            put(attributes, at: offset + 2)
            put(limit, at: offset + 4)
            put(base, at: offset + 8)
        }

        // Data segments: present, writable, accessed (0x93); CS: present, readable code,
        // accessed (0x9b); LDT (0x82) and busy 32-bit TSS (0x8b) as at reset.
        segment(Offset.es, selector: 0, attributes: 0x93)
        segment(Offset.cs, selector: 0xF000, attributes: 0x9B, base: UInt64(eip & 0xFFFF_0000))
        segment(Offset.ss, selector: 0, attributes: 0x93)
        segment(Offset.ds, selector: 0, attributes: 0x93)
        segment(Offset.fs, selector: 0, attributes: 0x93)
        segment(Offset.gs, selector: 0, attributes: 0x93)
        segment(Offset.gdtr, selector: 0, attributes: 0)
        segment(Offset.ldtr, selector: 0, attributes: 0x82)
        segment(Offset.idtr, selector: 0, attributes: 0)
        segment(Offset.tr, selector: 0, attributes: 0x8B)

        put(UInt64(0x1000), at: Offset.efer)          // EFER.SVME, which KVM sets
        put(UInt64(0x40), at: Offset.cr4)             // CR4.MCE, which KVM sets
        put(UInt64(0x10), at: Offset.cr0)             // CR0.ET
        put(UInt64(0x400), at: Offset.dr7)
        put(UInt64(0xFFFF_0FF0), at: Offset.dr6)
        put(UInt64(0x2), at: Offset.rflags)
        put(UInt64(eip & 0xFFFF), at: Offset.rip)
        put(UInt64(0x0007_0406_0007_0406), at: Offset.gPAT) // power-on PAT (APM vol. 2 A.3)
        put(UInt64(vcpuSignature), at: Offset.rdx)
        put(sevFeatures, at: Offset.sevFeatures)
        put(UInt64(0x1), at: Offset.xcr0)             // x87 state always enabled
        put(UInt32(0x1F80), at: Offset.mxcsr)         // all SSE exceptions masked
        put(UInt16(0x037F), at: Offset.x87FCW)        // FNINIT control word
        return page
    }
}
