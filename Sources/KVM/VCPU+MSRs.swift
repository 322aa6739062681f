import CKVM

extension VCPU {
    /// KVM_GET_MSRS of one MSR: KVM's own value of it for this vCPU, or nil when KVM does not
    /// emulate it (the ioctl returns how many entries it handled: 0). A host-initiated read,
    /// so neither the MSR filter nor user-space MSR exits apply (Documentation/virt/kvm/api.rst
    /// "KVM_GET_MSRS", "KVM_X86_SET_MSR_FILTER").
    public func getMSR(_ index: UInt32) throws(KVMError) -> UInt64? {
        var request = OneMSR(index: index, data: 0)
        let handled = try kvmIoctl(fd, CKVM_IOCTL_GET_MSRS, "KVM_GET_MSRS", &request)
        return handled == 1 ? request.data : nil
    }

    /// KVM_SET_MSRS of one MSR; false when KVM refuses the value or does not know the MSR.
    public func setMSR(_ index: UInt32, value: UInt64) throws(KVMError) -> Bool {
        var request = OneMSR(index: index, data: value)
        return try kvmIoctl(fd, CKVM_IOCTL_SET_MSRS, "KVM_SET_MSRS", &request) == 1
    }
}

/// `struct kvm_msrs` with room for one `struct kvm_msr_entry` (Linux uapi asm/kvm.h): nmsrs,
/// pad, then index, reserved, data — 24 bytes, laid out as the kernel reads them.
private struct OneMSR {
    var nmsrs: UInt32 = 1
    var pad: UInt32 = 0
    var index: UInt32
    var reserved: UInt32 = 0
    var data: UInt64

    init(index: UInt32, data: UInt64) {
        self.index = index
        self.data = data
    }
}
