import CKVM
import KVM
import Payload

/// The register state each layout starts in (docs/image-format.md).
enum BootState {
    // Architectural bits (Intel SDM vol. 3, 2.5; AMD APM vol. 2, 3.1).
    static let cr0ProtectedMode: UInt64 = 1 << 0
    static let cr0MonitorCoprocessor: UInt64 = 1 << 1
    static let cr0ExtensionType: UInt64 = 1 << 4
    static let cr0NumericError: UInt64 = 1 << 5
    static let cr0WriteProtect: UInt64 = 1 << 16
    static let cr0Paging: UInt64 = 1 << 31
    static let cr4PAE: UInt64 = 1 << 5
    static let cr4OSFXSR: UInt64 = 1 << 9
    static let cr4OSXMMEXCPT: UInt64 = 1 << 10
    static let eferLME: UInt64 = 1 << 8
    static let eferLMA: UInt64 = 1 << 10
    static let codeSelector: UInt16 = 0x08
    static let dataSelector: UInt16 = 0x10

    /// direct64: long mode at the entry with the image's page tables; firmware: KVM's reset
    /// state (real mode at 0xFFFFFFF0) is already what the reset vector expects.
    static func prepare(_ vcpu: VCPU, index: Int, image: Image, cr3Bits: UInt64 = 0) throws(KVMError) {
        guard image.layout == .direct64 else { return }
        var sregs = try vcpu.getSpecialRegisters()
        sregs.cr0 = cr0ProtectedMode | cr0MonitorCoprocessor | cr0ExtensionType | cr0NumericError | cr0WriteProtect | cr0Paging
        sregs.cr3 = image.pageTableRoot | cr3Bits
        sregs.cr4 = cr4PAE | cr4OSFXSR | cr4OSXMMEXCPT
        sregs.efer = eferLME | eferLMA
        loadFlatSegments(&sregs, codeSelector: codeSelector, dataSelector: dataSelector, longMode: true)
        try vcpu.setSpecialRegisters(sregs)
        var regs = Registers()
        regs.rip = image.entry
        regs.rdi = UInt64(index)
        regs.rflags = 0x2
        try vcpu.setRegisters(regs)
    }

    /// Flat 4 GiB segments: CS (execute/read, accessed; 64-bit when `longMode`) and every data
    /// segment (read/write, accessed).
    static func loadFlatSegments(_ sregs: inout SpecialRegisters, codeSelector: UInt16, dataSelector: UInt16, longMode: Bool) {
        sregs.cs = segment(selector: codeSelector, type: 0xB, longMode: longMode)
        let data = segment(selector: dataSelector, type: 0x3, longMode: false)
        sregs.ds = data
        sregs.es = data
        sregs.fs = data
        sregs.gs = data
        sregs.ss = data
    }

    static func segment(selector: UInt16, type: UInt8, longMode: Bool) -> kvm_segment {
        var segment = kvm_segment()
        segment.base = 0
        segment.limit = 0xFFFF_FFFF
        segment.selector = selector
        segment.type = type
        segment.present = 1
        segment.dpl = 0
        segment.db = longMode ? 0 : 1
        segment.s = 1
        segment.l = longMode ? 1 : 0
        segment.g = 1
        return segment
    }
}
