import GuestABI
import GuestPhysical
import KVM
import Payload

/// One SEV-SNP vCPU's platform half: the GHCB MSR and SEV_STATUS, VMGEXIT (the GHCB
/// protocols, decoded and served by `GHCBHost`), PVALIDATE against the RMP model, and the
/// #VC an access to an unvalidated page raises.
final class SEVSNPVCPU: PlatformVCPU {
    let index: Int
    let policy: PageStateChangePolicy
    private var ghcb = GHCBHost()

    init(index: Int, policy: PageStateChangePolicy) {
        self.index = index
        self.policy = policy
    }

    func readMSR(_ index: UInt32) -> UInt64? {
        switch index {
        case GHCBMSRProtocol.msrIndex: ghcb.msr
        case SEVSNPPlatform.sevStatusMSR: SEVSNPPlatform.sevStatusSNPGuest
        default: nil
        }
    }

    func writeMSR(_ index: UInt32, value: UInt64) -> Bool {
        guard index == GHCBMSRProtocol.msrIndex else { return false }
        ghcb.writeMSR(value)
        return true
    }

    func serve(_ instruction: RequestInstruction, _ request: inout TrappedRequest) -> TrappedOutcome {
        switch instruction {
        case .vmgexit:
            let machine = request.machine
            switch ghcb.vmgexit(
                memory: machine.memory, service: machine.service, policy: policy, devices: request.devices,
                transport: .trap, vcpu: index, events: &request.events)
            {
            case .resume: return .completed
            case .stop(let reason): return .stopped(reason)
            case .exited(let code): return .exited(code)
            }
        case .pvalidate:
            return PValidate.serve(&request, vcpu: index)
        case .rmpadjust:
            return RMPAdjust.serve(&request, vcpu: index)
        case .vmcall, .vmmcall, .tdcall:
            return .stopped(.hostError("\(instruction) reached the SEV-SNP platform"))
        }
    }

    /// A C=1 access to a guest-owned page that is not validated: #VC with the SVM exit code
    /// SVM_EXIT_PAGE_NOT_VALIDATED (0x404) as its error code and the faulting GVA in CR2 (AMD
    /// APM vol. 2 §15.36.10).
    /// A raw IN/OUT/INS/OUTS: #VC IOIO, not executed (`SNPPortIntercept`).
    func portIntercept(_ access: InterceptedPort) -> AccessFault? { SNPPortIntercept.fault(access, vcpu: index) }
    var interceptsPortIO: Bool { true }
    /// A raw access where no RAM is: #VC NPF for C=0, the guest's end for C=1 (`SNPMMIOIntercept`).
    func mmioIntercept(_ access: InterceptedMMIO) -> AccessFault? { SNPMMIOIntercept.fault(access, vcpu: index) }
    var interceptsMMIO: Bool { true }
    /// A raw RDMSR/WRMSR KVM intercepts for an SEV-ES/SNP guest: #VC 0x7C, not executed.
    func msrIntercept(_ access: InterceptedMSR) -> AccessFault? { SNPMSRIntercept.fault(access, vcpu: index) }

    /// The GHCB MSR NAE event reaches KVM's MSR emulation (sev.c sev_handle_vmgexit →
    /// kvm_emulate_rdmsr / kvm_emulate_wrmsr, svm_get_msr / svm_set_msr), which knows
    /// neither the GHCB MSR nor SEV_STATUS: the hardware owns both. Every other MSR is what
    /// KVM's emulation answers for the vCPU.
    func forwardedReadMSR(_ index: UInt32, kvm: any HypervisorMSRs) -> UInt64? {
        Self.hardwareOwned(index) ? nil : kvm.read(index)
    }

    func forwardedWriteMSR(_ index: UInt32, value: UInt64, kvm: any HypervisorMSRs) -> Bool {
        Self.hardwareOwned(index) ? false : kvm.write(index, value: value)
    }

    private static func hardwareOwned(_ index: UInt32) -> Bool {
        index == GHCBMSRProtocol.msrIndex || index == SEVSNPPlatform.sevStatusMSR
    }
    /// A raw CPUID: #VC 0x72 for every leaf (`SNPCPUIDIntercept`).
    func cpuidIntercept(_ access: InterceptedCPUID) -> AccessFault? { SNPCPUIDIntercept.fault(access, vcpu: index) }

    func unacceptedAccess(_ access: UnacceptedAccess) -> AccessFault {
        let kind = access.isWrite ? "write" : "read"
        return .inject(
            vector: SEVSNPPlatform.vmmCommunicationException, errorCode: SEVSNPPlatform.pageNotValidated, cr2: access.linear,
            remembered: InjectedException(
                vector: UInt64(SEVSNPPlatform.vmmCommunicationException),
                cause: "a C=1 \(kind) of GPA \(access.namedGPA), guest-owned but not validated; page states: \(access.states)"),
            served: .served(
                vcpu: index, interface: .sevSNP, request: .unvalidatedAccess(access.isWrite ? .write : .read, gpa: access.gpa, at: access.at),
                answer: "#VC 0x404 (page not validated)" + (access.section.map { "; the page is \($0)" } ?? "")))
    }

    /// Why an SNP guest may have shut down here but not on hardware: a page-table walk the
    /// hardware makes private whatever the entries' C-bit (AMD APM vol. 2 §15.34.5) meets,
    /// through a C=0 CR3 or table pointer, a private page this runner's shared view keeps
    /// closed. Names the first such table on RIP's walk; empty otherwise.
    func shutdownHint(regs: Registers, sregs: SpecialRegisters, machine: Machine) -> String {
        guard let views = machine.service.views, views.bitMeansPrivate, sregs.cr0 & BootState.cr0Paging != 0 else { return "" }
        var pointer = sregs.cr3, name = "CR3"
        for (level, shift) in [(4, UInt64(39)), (3, 30), (2, 21), (1, 12)] {
            let table = pointer & GuestPageWalk.addressBits & ~views.viewBit
            if pointer & views.viewBit == 0, machine.service.state(at: table) == .private {
                return
                    " (\(name) points at page-table page \(hex(table)) without the C-bit, and it is private: SNP hardware walks tables as private whatever their C-bit, this runner only through C=1 — give table pointers and CR3 the C-bit)"
            }
            guard let entry = machine.memory.load(UInt64.self, at: table + ((regs.rip >> shift) & 0x1FF) * 8),
                entry & GuestPageWalk.present != 0, level > 1, entry & GuestPageWalk.largePage == 0
            else { return "" }
            pointer = entry
            name = "the level-\(level) entry for RIP"
        }
        return ""
    }
}

extension SEVSNPPlatform {
    /// #VC's vector, and the error code of one for an unvalidated page (AMD APM vol. 2 §15.36.10).
    static let vmmCommunicationException: UInt8 = 29
    static let pageNotValidated: UInt32 = 0x404
}
