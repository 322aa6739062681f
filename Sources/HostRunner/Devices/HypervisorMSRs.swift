import KVM

/// The hypervisor's own MSR emulation for one vCPU, which an RDMSR/WRMSR forwarded by the
/// guest's protocol reaches: KVM's value of the MSR for the vCPU (`VCPUMSRs`), or a
/// stand-in in tests. nil / false: KVM does not emulate the MSR or refuses the value.
protocol HypervisorMSRs: AnyObject {
    func read(_ index: UInt32) -> UInt64?
    func write(_ index: UInt32, value: UInt64) -> Bool
}

/// KVM_GET_MSRS / KVM_SET_MSRS on the vCPU. Host-initiated, so KVM skips the few checks it
/// makes only of a guest's own accesses (a reserved-bit check here and there, CPUID-gated
/// MSRs); an ioctl that fails outright counts as a refusal.
final class VCPUMSRs: HypervisorMSRs {
    private let vcpu: VCPU

    init(vcpu: VCPU) { self.vcpu = vcpu }

    func read(_ index: UInt32) -> UInt64? { (try? vcpu.getMSR(index)) ?? nil }
    func write(_ index: UInt32, value: UInt64) -> Bool { (try? vcpu.setMSR(index, value: value)) ?? false }
}
