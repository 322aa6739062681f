import GuestABI
import GuestPhysical

/// The host's side of the GHCB protocols for one vCPU, as a hypervisor for SEV-SNP guests
/// implements it: the GHCB MSR (0xC0010130) the guest writes requests to, the MSR protocol
/// served on VMGEXIT when the MSR holds a request, and the GHCB page protocol (Page State
/// Change NAE event) when it holds the registered GHCB's GPA. The platform's own constants
/// (C-bit, SEV_STATUS) are `SEVSNPPlatform`'s; the MSR's reads and writes reach this through
/// `SEVSNPVCPU`.
struct GHCBHost {
    /// The GHCB protocol versions this host speaks (the GHCB specification's v2 for SNP).
    static let minimumProtocol: UInt16 = 2, maximumProtocol: UInt16 = 2
    /// GHCB_HV_FT_SNP: the hypervisor supports SNP guests.
    static let hypervisorFeatures: UInt64 = 1

    private(set) var msr: UInt64 = 0
    private(set) var registeredGPA: UInt64?
    /// This vCPU's copy of its GHCB, refilled on each VMGEXIT (no allocation per request).
    private var page = GHCBPage()
    /// The vCPU's XCR0 and XSS as KVM knows them; the MSR protocol's CPUID request is
    /// answered with them.
    var xsave = XSAVEState()

    mutating func writeMSR(_ value: UInt64) { msr = value }

    enum Outcome {
        case resume
        case stop(VCPUStop)
        /// A forwarded write to the report channel's exit port.
        case exited(UInt32)
    }

    /// Serves one VMGEXIT.
    mutating func vmgexit(
        memory: GuestMemory, service: ConversionService, policy: PageStateChangePolicy, devices: GuestDevices,
        transport: Transport, vcpu: Int, events: inout [RunEvent]
    ) -> Outcome {
        if msr & GHCBMSRProtocol.infoMask != 0 {
            return msrProtocol(service: service, devices: devices, transport: transport, vcpu: vcpu, events: &events)
        }
        return pageProtocol(memory: memory, service: service, policy: policy, devices: devices, transport: transport, vcpu: vcpu, events: &events)
    }

    private mutating func msrProtocol(
        service: ConversionService, devices: GuestDevices, transport: Transport, vcpu: Int,
        events: inout [RunEvent]
    ) -> Outcome {
        let request = GHCBMSRRequest(msr: msr)
        let asked = "GHCB MSR \(hex(msr))"
        switch request {
        case .sevInformation:
            msr = GHCBMSRResponse.sevInformation(maxVersion: Self.maximumProtocol, minVersion: Self.minimumProtocol, cBitPosition: SEVSNPPlatform.cBitPosition)
            events.append(.served(vcpu: vcpu, interface: .sevSNP, request: .sevInformation, answer: hex(msr)))
        case .registerGHCB(let gfn):
            registeredGPA = gfn << 12
            msr = GHCBMSRResponse.registerGHCB(gfn: gfn)
            events.append(.served(vcpu: vcpu, interface: .sevSNP, request: .registerGHCB(gpa: gfn << 12), answer: hex(msr)))
        case .hypervisorFeatures:
            msr = GHCBMSRResponse.hypervisorFeatures(Self.hypervisorFeatures)
            events.append(.served(vcpu: vcpu, interface: .sevSNP, request: .hypervisorFeatures, answer: hex(msr)))
        case .pageStateChange(let gfn, let operation):
            if let conversion = GHCBMSRProtocol.conversion(gfn: gfn, operation: operation) {
                let outcome = ConversionLog.convert(conversion, transport: transport, service: service, vcpu: vcpu, events: &events)
                msr = GHCBMSRProtocol.pageStateChangeResponse(for: outcome)
            } else {
                msr = GHCBMSRProtocol.pageStateChangeError
                events.append(
                    .rejected(
                        vcpu: vcpu,
                        RejectedRequest(
                            interface: .sevSNP, transport: transport,
                            request: "MSR PSC gfn \(hex(gfn)) operation \(operation)", answer: "GHCB MSR \(hex(msr))")))
            }
        case .terminate(let reasonSet, let reasonCode):
            return .stop(.terminationRequested(.ghcb(reasonSet: reasonSet, reasonCode: reasonCode, via: .msrProtocol)))
        case .cpuid(let function, let register):
            // KVM serves it as CPUID with ECX = 0 and the vCPU's XCR0 (sev.c
            // `sev_handle_vmgexit_msr_protocol`, GHCB_MSR_CPUID_REQ).
            let answer = devices.cpuid(leaf: function, subleaf: 0, xcr0: xsave.xcr0, xss: xsave.xss)
            let value = [answer.eax, answer.ebx, answer.ecx, answer.edx][Int(register & 0x3)]
            msr = GHCBMSRResponse.cpuid(request: msr, value: value)
            events.append(
                .served(
                    vcpu: vcpu, interface: .sevSNP, request: .cpuid(leaf: function, subleaf: 0),
                    answer: "\(["EAX", "EBX", "ECX", "EDX"][Int(register & 0x3)]) \(hex(value)), GHCB MSR \(hex(msr))"))
        case .preferredGHCB, .unknown:
            // KVM answers requests it does not implement by failing the run; so do we, by name.
            return .stop(.unsupportedRequest("\(asked): \(request) is not served by this host"))
        }
        return .resume
    }

    private mutating func pageProtocol(
        memory: GuestMemory, service: ConversionService, policy: PageStateChangePolicy, devices: GuestDevices,
        transport: Transport, vcpu: Int, events: inout [RunEvent]
    ) -> Outcome {
        let gpa = msr
        guard let registered = registeredGPA, registered == gpa else {
            // KVM fails KVM_RUN for a GHCB GPA the guest never registered (sev.c).
            return .stop(.unsupportedRequest("VMGEXIT with GHCB GPA \(hex(gpa)), which the guest has not registered (MSR protocol REGISTER_GHCB)"))
        }
        // SAFETY: a page-sized buffer lent by GuestMemory, copied before the closure returns.
        guard memory.withBytes(at: gpa, count: GHCBLayout.pageSize, { try? page.reload(copying: UnsafeRawBufferPointer($0)) }) != nil else {
            return .stop(.unsupportedRequest("the registered GHCB at \(hex(gpa)) is not inside guest RAM"))
        }
        if service.state(at: gpa) != .shared {
            // A hypervisor cannot read a GHCB in private memory, let alone answer in it: KVM
            // fails to map it ("vmgexit: error mapping GHCB … from guest", sev.c
            // sev_handle_vmgexit) and KVM_RUN returns EINVAL. Nothing is written into it.
            return .stop(
                .platformStopped(
                    "VMGEXIT with the GHCB at \(hex(gpa)) in private memory: KVM cannot map a private GHCB (\"vmgexit: error mapping GHCB\"), so KVM_RUN fails with EINVAL and the guest stops; page states: \(service.describeStates(around: gpa))"
                ))
        }
        let disposition = GHCBExitHandler.handle(&page, ghcbGPA: gpa, policy: policy) { request in
            ConversionLog.convert(request, transport: transport, service: service, vcpu: vcpu, events: &events)
        }
        switch disposition {
        case .pageStateChange(let result) where result.exitInfo2 != 0:
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .sevSNP, transport: transport,
                        request: "PSC NAE event", answer: "SW_EXITINFO2 \(hex(result.exitInfo2)) (\(result))")))
        case .malformed(let error):
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .sevSNP, transport: transport,
                        request: "VMGEXIT exit code \(hex(page[.swExitCode]))", answer: "SW_EXITINFO1 2, SW_EXITINFO2 \(error.rawValue) (\(error))")))
        case .unhandled:
            // Not a conversion: an NAE event of the devices', or malformed.
            let outcome = Self.serveEvent(
                in: &page, ghcbGPA: gpa, xsave: &xsave, memory: memory, devices: devices, transport: transport,
                vcpu: vcpu, events: &events)
            if case .stop = outcome { return outcome } // no answer: the guest does not resume
            memory.withBytes(at: gpa, count: GHCBLayout.pageSize) { write(page, to: $0) }
            return outcome
        case .pageStateChange, .hypercall:
            break
        }
        memory.withBytes(at: gpa, count: GHCBLayout.pageSize) { write(page, to: $0) }
        return .resume
    }

    /// Writes back only what the host changed, as a hypervisor updates a GHCB.
    private func write(_ page: GHCBPage, to bytes: UnsafeMutableRawBufferPointer) {
        page.bytes.withUnsafeBytes { source in
            page.forEachChangedRange { range in
                // SAFETY: `range` is a field of the GHCB layout, inside both page-sized buffers.
                UnsafeMutableRawBufferPointer(rebasing: bytes[range]).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
            }
        }
    }
}
