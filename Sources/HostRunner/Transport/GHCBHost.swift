import GuestABI
import GuestPhysical

/// The host's side of the GHCB protocols for one vCPU, as a hypervisor for SEV-SNP guests
/// implements it: the GHCB MSR (0xC0010130) the guest writes requests to, the MSR protocol
/// served on VMGEXIT when the MSR holds a request, and the GHCB page protocol (Page State
/// Change NAE event) when it holds the registered GHCB's GPA.
struct GHCBHost {
    /// SEV_STATUS (0xC0010131): SEV, SEV-ES and SNP active (Linux msr-index.h bits 0, 1, 2).
    static let sevStatusMSR: UInt32 = 0xC001_0131
    static let sevStatusSNPGuest: UInt64 = 0b111
    /// The GHCB protocol versions this host speaks (the GHCB specification's v2 for SNP).
    static let minimumProtocol: UInt16 = 2, maximumProtocol: UInt16 = 2
    /// The C-bit, reported in SEV_INFO and CPUID 0x8000001F EBX[5:0]: bit 47, the position
    /// first-generation EPYC parts report (later ones say 51; guests read it, never assume
    /// it), under a MAXPHYADDR of 48 (CPUID 0x80000008), so that the guest MMU treats it as an
    /// address bit and a C=1 access reaches the private view's memslot.
    static let cBitPosition: UInt8 = 47
    static let physicalAddressBits: UInt32 = 48
    static var cBit: UInt64 { 1 << UInt64(cBitPosition) }
    /// GHCB_HV_FT_SNP: the hypervisor supports SNP guests.
    static let hypervisorFeatures: UInt64 = 1

    private(set) var msr: UInt64 = 0
    private(set) var registeredGPA: UInt64?
    /// This vCPU's copy of its GHCB, refilled on each VMGEXIT (no allocation per request).
    private var page = GHCBPage()

    mutating func writeMSR(_ value: UInt64) { msr = value }

    enum Outcome {
        case resume
        case stop(VCPUStop)
    }

    /// Serves one VMGEXIT.
    mutating func vmgexit(
        memory: GuestMemory, service: ConversionService, policy: PageStateChangePolicy,
        transport: Transport, vcpu: Int, events: inout [RunEvent]
    ) -> Outcome {
        if msr & GHCBMSRProtocol.infoMask != 0 {
            return msrProtocol(service: service, transport: transport, vcpu: vcpu, events: &events)
        }
        return pageProtocol(memory: memory, service: service, policy: policy, transport: transport, vcpu: vcpu, events: &events)
    }

    private mutating func msrProtocol(service: ConversionService, transport: Transport, vcpu: Int, events: inout [RunEvent]) -> Outcome {
        let request = GHCBMSRRequest(msr: msr)
        let asked = "GHCB MSR \(hex(msr))"
        switch request {
        case .sevInformation:
            msr = GHCBMSRResponse.sevInformation(maxVersion: Self.maximumProtocol, minVersion: Self.minimumProtocol, cBitPosition: Self.cBitPosition)
            events.append(.served(vcpu: vcpu, interface: .ghcb, request: "SEV_INFO", answer: hex(msr)))
        case .registerGHCB(let gfn):
            registeredGPA = gfn << 12
            msr = GHCBMSRResponse.registerGHCB(gfn: gfn)
            events.append(.served(vcpu: vcpu, interface: .ghcb, request: "REGISTER_GHCB \(hex(gfn << 12))", answer: hex(msr)))
        case .hypervisorFeatures:
            msr = GHCBMSRResponse.hypervisorFeatures(Self.hypervisorFeatures)
            events.append(.served(vcpu: vcpu, interface: .ghcb, request: "HV_FEATURES", answer: hex(msr)))
        case .pageStateChange(let gfn, let operation):
            if let conversion = GHCBMSRProtocol.conversion(gfn: gfn, operation: operation) {
                let outcome = ConversionLog.convert(conversion, transport: transport, service: service, vcpu: vcpu, events: &events)
                msr = GHCBMSRProtocol.pageStateChangeResponse(for: outcome)
            } else {
                msr = GHCBMSRProtocol.pageStateChangeError
                events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .ghcb, transport: transport,
                    request: "MSR PSC gfn \(hex(gfn)) operation \(operation)", answer: "GHCB MSR \(hex(msr))")))
            }
        case .terminate(let reasonSet, let reasonCode):
            return .stop(.guestTerminated(reason: "GHCB termination request, reason set \(reasonSet), code \(reasonCode)"))
        case .cpuid, .preferredGHCB, .unknown:
            // KVM answers requests it does not implement by failing the run; so do we, by name.
            return .stop(.unsupportedRequest("\(asked): \(request) is not served by this host"))
        }
        return .resume
    }

    private mutating func pageProtocol(
        memory: GuestMemory, service: ConversionService, policy: PageStateChangePolicy,
        transport: Transport, vcpu: Int, events: inout [RunEvent]
    ) -> Outcome {
        let gpa = msr
        guard let registered = registeredGPA, registered == gpa else {
            // KVM fails KVM_RUN for a GHCB GPA the guest never registered (sev.c).
            return .stop(.unsupportedRequest("VMGEXIT with GHCB GPA \(hex(gpa)), which the guest has not registered (MSR protocol REGISTER_GHCB)"))
        }
        guard let bytes = memory.bytes(at: gpa, count: GHCBLayout.pageSize),
              (try? page.reload(copying: UnsafeRawBufferPointer(bytes))) != nil else {
            return .stop(.unsupportedRequest("the registered GHCB at \(hex(gpa)) is not inside guest RAM"))
        }
        if service.state(at: gpa) != .shared {
            // A hypervisor cannot read a GHCB in private memory, let alone answer in it: KVM
            // fails to map it ("vmgexit: error mapping GHCB … from guest", sev.c
            // sev_handle_vmgexit) and KVM_RUN returns EINVAL. Nothing is written into it.
            return .stop(.platformStopped("VMGEXIT with the GHCB at \(hex(gpa)) in private memory: KVM cannot map a private GHCB (\"vmgexit: error mapping GHCB\"), so KVM_RUN fails with EINVAL and the guest stops; page states: \(service.describeStates(around: gpa))"))
        }
        let disposition = GHCBExitHandler.handle(&page, ghcbGPA: gpa, policy: policy) { request in
            ConversionLog.convert(request, transport: transport, service: service, vcpu: vcpu, events: &events)
        }
        switch disposition {
        case .pageStateChange(let result) where result.exitInfo2 != 0:
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .ghcb, transport: transport,
                request: "PSC NAE event", answer: "SW_EXITINFO2 \(hex(result.exitInfo2)) (\(result))")))
        case .malformed(let error):
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .ghcb, transport: transport,
                request: "VMGEXIT exit code \(hex(page[.swExitCode]))", answer: "SW_EXITINFO1 2, SW_EXITINFO2 \(error.rawValue) (\(error))")))
        case .unhandled(let exitCode):
            GHCBExitHandler.complete(&page, exitInfo1: GHCBMalformedInput.exitInfo1, exitInfo2: GHCBMalformedInput.invalidEvent.rawValue)
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .ghcb, transport: transport,
                request: "VMGEXIT exit code \(hex(exitCode))", answer: "SW_EXITINFO1 2, SW_EXITINFO2 6 (GHCB_ERR_INVALID_EVENT)")))
        case .pageStateChange, .hypercall:
            break
        }
        write(page, to: bytes)
        return .resume
    }

    /// Writes back only what the host changed, as a hypervisor updates a GHCB.
    private func write(_ page: GHCBPage, to bytes: UnsafeMutableRawBufferPointer) {
        page.bytes.withUnsafeBytes { source in
            page.forEachChangedRange { range in
                UnsafeMutableRawBufferPointer(rebasing: bytes[range]).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
            }
        }
    }
}
