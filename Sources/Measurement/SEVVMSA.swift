/// The initial VMSA (SEV-ES save area) a VMM gives a vCPU of an SEV-ES or SEV-SNP guest.
/// Offsets follow Linux arch/x86/include/asm/svm.h `struct sev_es_save_area` (AMD APM vol. 2,
/// table B-4); values are the x86 reset state as KVM sets it, plus what KVM adds (EFER.SVME,
/// CR4.MCE), and per VMM what sev-snp-measure 0.0.13 (vmsa.py) records: QEMU puts the CPUID
/// signature in RDX and sets MXCSR/FCW; EC2 and GCE put 0x600 in RDX and leave MXCSR/FCW zero;
/// EC2 marks the BSP's CS not-accessed (0x9A), SS 0x92 and TR 0x83; GCE uses PAT 0x70106.
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
    /// IP = eip & 0xFFFF), with SEV_FEATURES = `sevFeatures` and (QEMU) RDX = `vcpuSignature`
    /// (the CPUID(1).EAX value a real CPU leaves in EDX after reset).
    public static func page(eip: UInt32, sevFeatures: UInt64, vcpuSignature: UInt32, vmm: VMMType = .qemu) -> [UInt8] {
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
        let state = VMMResetState(vmm, eip: eip, vcpuSignature: vcpuSignature)
        segment(Offset.es, selector: 0, attributes: 0x93)
        segment(Offset.cs, selector: 0xF000, attributes: state.csAttributes, base: UInt64(eip & 0xFFFF_0000))
        segment(Offset.ss, selector: 0, attributes: state.ssAttributes)
        segment(Offset.ds, selector: 0, attributes: 0x93)
        segment(Offset.fs, selector: 0, attributes: 0x93)
        segment(Offset.gs, selector: 0, attributes: 0x93)
        segment(Offset.gdtr, selector: 0, attributes: 0)
        segment(Offset.ldtr, selector: 0, attributes: 0x82)
        segment(Offset.idtr, selector: 0, attributes: 0)
        segment(Offset.tr, selector: 0, attributes: state.trAttributes)

        put(UInt64(0x1000), at: Offset.efer) // EFER.SVME, which KVM sets
        put(UInt64(0x40), at: Offset.cr4) // CR4.MCE, which KVM sets
        put(UInt64(0x10), at: Offset.cr0) // CR0.ET
        put(UInt64(0x400), at: Offset.dr7)
        put(UInt64(0xFFFF_0FF0), at: Offset.dr6)
        put(UInt64(0x2), at: Offset.rflags)
        put(UInt64(eip & 0xFFFF), at: Offset.rip)
        put(state.pat, at: Offset.gPAT)
        put(state.rdx, at: Offset.rdx)
        put(sevFeatures, at: Offset.sevFeatures)
        put(UInt64(0x1), at: Offset.xcr0) // x87 state always enabled
        put(state.mxcsr, at: Offset.mxcsr)
        put(state.fcw, at: Offset.x87FCW)
        return page
    }
}

extension SEVVMSA {
    /// One VMSA per vCPU in launch order: the BSP at the reset vector, then the APs at `apEIP`
    /// (required when `vcpus` > 1). Only two distinct pages exist, so the array shares them.
    public static func pages(
        vcpus: Int, apEIP: UInt32?, sevFeatures: UInt64, vcpuSignature: UInt32,
        vmm: VMMType
    ) -> [[UInt8]] {
        guard vcpus >= 1 else { return [] }
        let bsp = page(eip: resetVectorEIP, sevFeatures: sevFeatures, vcpuSignature: vcpuSignature, vmm: vmm)
        guard vcpus > 1, let apEIP else { return [bsp] }
        let ap = page(eip: apEIP, sevFeatures: sevFeatures, vcpuSignature: vcpuSignature, vmm: vmm)
        return [bsp] + Array(repeating: ap, count: vcpus - 1)
    }
}

/// The registers in which the VMMs' initial VMSAs differ (sev-snp-measure 0.0.13 vmsa.py,
/// `build_save_area`).
private struct VMMResetState {
    var csAttributes: UInt16 = 0x9B, ssAttributes: UInt16 = 0x93, trAttributes: UInt16 = 0x8B
    var pat: UInt64 = 0x0007_0406_0007_0406 // power-on PAT (APM vol. 2 A.3)
    var rdx: UInt64
    var mxcsr: UInt32 = 0x1F80 // all SSE exceptions masked
    var fcw: UInt16 = 0x037F // FNINIT control word

    init(_ vmm: VMMType, eip: UInt32, vcpuSignature: UInt32) {
        rdx = UInt64(vcpuSignature)
        guard vmm != .qemu else { return }
        rdx = 0x600
        mxcsr = 0
        fcw = 0
        if vmm == .ec2 {
            if eip == SEVVMSA.resetVectorEIP { csAttributes = 0x9A }
            ssAttributes = 0x92
            trAttributes = 0x83
        } else {
            pat = 0x0007_0106
        }
    }
}
