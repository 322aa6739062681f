import GuestPhysical
import KVM
import Payload

/// A plain KVM guest: private memory only as KVM's memory attributes give it, conversions
/// through KVM_HC_MAP_GPA_RANGE. With `identity` `.kvm` the guest is told so (KVM's CPUID
/// signature and the MAP_GPA_RANGE feature bit); without, no identity is programmed.
struct KVMPlatform: GuestPlatform {
    let identity: ConversionPlatform?

    static let signatureLeaf: UInt32 = 0x4000_0000
    static let featuresLeaf: UInt32 = 0x4000_0001
    /// KVM_FEATURE_HC_MAP_GPA_RANGE (Linux uapi asm/kvm_para.h, bit 16).
    static let featureMapGPARange: UInt32 = 1 << 16

    func identify(_ entries: [CPUIDEntry]) -> [CPUIDEntry] {
        var entries = entries
        CPUIDTable.hideSEV(&entries)
        guard identity == .kvm else { return entries }
        let existing = entries.first { $0.function == Self.featuresLeaf }
        CPUIDTable.set(
            &entries, leaf: Self.signatureLeaf, eax: Self.featuresLeaf, ebx: CPUIDTable.fourCC("KVMK"),
            ecx: CPUIDTable.fourCC("VMKV"), edx: CPUIDTable.fourCC("M\0\0\0"))
        CPUIDTable.set(
            &entries, leaf: Self.featuresLeaf, eax: (existing?.eax ?? 0) | Self.featureMapGPARange, ebx: 0, ecx: 0,
            edx: existing?.edx ?? 0)
        return entries
    }

    func layOutRAM(_ context: LayoutContext) throws -> MachineMemory { try plainRAM(context) }

    func launchPages(image: Image, memory: GuestMemory, options: RunOptions, cpuid: () throws -> [CPUIDEntry]) throws -> [LaunchPage] { [] }

    func makeVCPU(index: Int, options: RunOptions) -> any PlatformVCPU { KVMVCPU(index: index) }
}

/// A KVM guest's vCPU: serves the trapped `vmcall`/`vmmcall` of KVM_HC_MAP_GPA_RANGE.
final class KVMVCPU: PlatformVCPU {
    let index: Int

    init(index: Int) { self.index = index }

    func serve(_ instruction: RequestInstruction, _ request: inout TrappedRequest) -> TrappedOutcome {
        let sregs = request.sregs
        let longMode = sregs.efer & BootState.eferLMA != 0 && sregs.cs.l != 0
        request.regs.rax = KVMHypercallHost.serve(
            nr: request.regs.rax, a0: request.regs.rbx, a1: request.regs.rcx, a2: request.regs.rdx, longMode: longMode, cpl: sregs.cs.dpl,
            transport: .trap, service: request.machine.service, vcpu: index, events: &request.events)
        return .completed
    }

    /// KVM's model has no unaccepted pages (`PageStateMap.access` never answers so for it).
    func unacceptedAccess(_ access: UnacceptedAccess) -> AccessFault {
        .stop(.hostError("a KVM guest's access to \(hex(access.gpa)) met an unaccepted page, which KVM's model has none of"))
    }
}
