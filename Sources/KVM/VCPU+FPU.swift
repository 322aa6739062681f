import CKVM

/// The x87/SSE state of a vCPU in the layout of KVM_GET_FPU / KVM_SET_FPU (`struct kvm_fpu`,
/// Linux arch/x86/include/uapi/asm/kvm.h): fpr[8][16], fcw, fsw, ftwx (FXSAVE's abridged tag
/// byte), last_opcode, last_ip, last_dp, xmm[16][16], mxcsr.
///
/// Two kernel facts make this the wrong channel for MXCSR and for a fresh vCPU (measured on
/// Linux 6.18, and in arch/x86/kvm/x86.c `kvm_arch_vcpu_ioctl_get_fpu`/`_set_fpu` since KVM
/// began): the ioctls copy every field except `mxcsr` (GET leaves it 0, SET ignores it), and
/// SET writes the legacy FXSAVE region without setting XSTATE_BV's x87/SSE bits, so on a
/// vCPU whose XSTATE_BV is still 0 the guest (XRSTOR) keeps the init values. `XSAVEArea`
/// (KVM_GET_XSAVE / KVM_SET_XSAVE) carries both.
public typealias FPURegisters = kvm_fpu

/// The vCPU's XSAVE image as KVM_GET_XSAVE / KVM_SET_XSAVE exchange it (`struct kvm_xsave`,
/// 4096 bytes, standard non-compacted format): the legacy FXSAVE region (Intel SDM vol. 1
/// §10.5.1, table 10-2: FCW @0, FSW @2, abridged FTW @4, FOP @6, FIP @8, FDP @16, MXCSR @24,
/// MXCSR_MASK @28) and the XSAVE header at 512 (XSTATE_BV @512; SDM vol. 1 §13.4.2).
public struct XSAVEArea {
    public var raw: kvm_xsave

    public init(raw: kvm_xsave = kvm_xsave()) { self.raw = raw }

    static let xstateBVOffset = 512
    /// XSTATE_BV bits 0 (x87) and 1 (SSE): set, XRSTOR loads those components from the image.
    public static let x87AndSSE: UInt64 = 0b11

    // Bounds-checked: callers outside this file (tests, the emulator) pass offsets too.
    public func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= MemoryLayout<kvm_xsave>.size, "XSAVE offset \(offset) outside the image")
        // SAFETY: the precondition keeps the load inside kvm_xsave's bytes.
        return withUnsafeBytes(of: raw) { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    public mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= MemoryLayout<kvm_xsave>.size, "XSAVE offset \(offset) outside the image")
        // SAFETY: the precondition keeps the store inside kvm_xsave's bytes.
        withUnsafeMutableBytes(of: &raw) { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }

    public var fcw: UInt16 {
        get { load(0, as: UInt16.self) }
        set { store(newValue, at: 0) }
    }
    public var fsw: UInt16 {
        get { load(2, as: UInt16.self) }
        set { store(newValue, at: 2) }
    }
    public var abridgedTagWord: UInt8 {
        get { load(4, as: UInt8.self) }
        set { store(newValue, at: 4) }
    }
    public var lastOpcode: UInt16 {
        get { load(6, as: UInt16.self) }
        set { store(newValue, at: 6) }
    }
    public var lastInstructionPointer: UInt64 {
        get { load(8, as: UInt64.self) }
        set { store(newValue, at: 8) }
    }
    public var lastDataPointer: UInt64 {
        get { load(16, as: UInt64.self) }
        set { store(newValue, at: 16) }
    }
    public var mxcsr: UInt32 {
        get { load(24, as: UInt32.self) }
        set { store(newValue, at: 24) }
    }
    /// The MXCSR bits this vCPU accepts (0 means the SDM's default 0000FFBFH).
    public var mxcsrMask: UInt32 { load(28, as: UInt32.self) }
    public var xstateBV: UInt64 {
        get { load(Self.xstateBVOffset, as: UInt64.self) }
        set { store(newValue, at: Self.xstateBVOffset) }
    }
}

extension VCPU {
    /// KVM_GET_FPU (Documentation/virt/kvm/api.rst 4.22). `mxcsr` always reads 0: see `FPURegisters`.
    public func getFPU() throws(KVMError) -> FPURegisters {
        var registers = FPURegisters()
        _ = try kvmIoctl(fd, CKVM_IOCTL_GET_FPU, "KVM_GET_FPU", &registers)
        return registers
    }

    /// KVM_SET_FPU (api.rst 4.23). `mxcsr` is ignored by the kernel: see `FPURegisters`.
    public func setFPU(_ registers: FPURegisters) throws(KVMError) {
        var copy = registers
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_FPU, "KVM_SET_FPU", &copy)
    }

    /// KVM_GET_XSAVE (api.rst 4.42; needs KVM_CAP_XSAVE): the whole XSAVE image, MXCSR and
    /// MXCSR_MASK included.
    public func getXSAVE() throws(KVMError) -> XSAVEArea {
        var area = kvm_xsave()
        _ = try kvmIoctl(fd, CKVM_IOCTL_GET_XSAVE, "KVM_GET_XSAVE", &area)
        return XSAVEArea(raw: area)
    }

    /// KVM_SET_XSAVE (api.rst 4.43): loads the image; components whose XSTATE_BV bit is clear
    /// take their init values.
    public func setXSAVE(_ area: XSAVEArea) throws(KVMError) {
        var copy = area.raw
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_XSAVE, "KVM_SET_XSAVE", &copy)
    }
}
