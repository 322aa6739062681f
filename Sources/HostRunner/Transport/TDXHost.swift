import GuestABI
import GuestPhysical

/// The host's side of TDCALL for one vCPU, standing in for both the TDX module (TDG.VP.INFO,
/// TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT, unknown leaves) and KVM (TDG.VP.VMCALL<MapGPA>,
/// served in ≤ 2 MiB chunks, with RETRY when the runner is asked to force one).
struct TDXHost {
    let width: TDXGuestPhysicalAddressWidth
    let vcpuCount: Int
    /// TD ATTRIBUTES (RunOptions.tdxAttributes).
    let attributes: UInt64
    /// RETRYs still to force (a test hook: `--inject-retry N`).
    var retriesToInject: Int
    /// The #VE information the last injected #VE left for TDG.VP.VEINFO.GET (VE_INFO.VALID).
    var pendingVEInfo: VEInfo?

    /// What the TDX module records for a #VE (tdx_inject_ve; edk2 TDCALL_VEINFO_RETURN_DATA).
    struct VEInfo: Equatable {
        var exitReason: UInt32
        var exitQualification: UInt64
        var gla: UInt64
        var gpa: UInt64
    }

    init(width: TDXGuestPhysicalAddressWidth, vcpuCount: Int, retriesToInject: Int, attributes: UInt64 = RunOptions.tdxSeptVEDisable) {
        self.width = width
        self.vcpuCount = vcpuCount
        self.retriesToInject = retriesToInject
        self.attributes = attributes
    }

    /// Serves one TDCALL; a stop is returned where the platform would not resume the guest.
    @discardableResult
    mutating func tdcall(_ registers: inout TDCallRegisters, vcpu: Int, service: ConversionService, transport: Transport,
                         events: inout [RunEvent]) -> VCPUStop? {
        switch TDCall.decode(registers) {
        case .vpInfo:
            TDXVPInfo(width: width, attributes: attributes, vcpuCount: UInt32(vcpuCount), maxVCPUCount: UInt32(vcpuCount),
                      vcpuIndex: UInt32(vcpu)).apply(to: &registers)
            events.append(.served(vcpu: vcpu, interface: .tdx, request: "TDG.VP.INFO", answer: "GPAW \(width.rawValue), attributes \(hex(attributes))"))
        case .veInfoGet:
            // tdg_vp_veinfo_get.c: RCX, RDX, R8, R9, R10 cleared first; VALID cleared after.
            registers.rcx = 0; registers.rdx = 0; registers.r8 = 0; registers.r9 = 0; registers.r10 = 0
            if let info = pendingVEInfo {
                registers.rax = TDCall.success
                registers.rcx = UInt64(info.exitReason)
                registers.rdx = info.exitQualification
                registers.r8 = info.gla
                registers.r9 = info.gpa
                pendingVEInfo = nil
            } else {
                registers.rax = TDCall.noValidVEInfo
            }
            events.append(.served(vcpu: vcpu, interface: .tdx, request: "TDG.VP.VEINFO.GET", answer: "rax \(hex(registers.rax))"))
        case .memPageAccept(let pageInfo):
            return accept(pageInfo, registers: &registers, vcpu: vcpu, service: service, transport: transport, events: &events)
        case .failed(let status):
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .tdx, transport: transport,
                request: "TDCALL leaf \(registers.rax)", answer: "rax = \(hex(status))")))
            registers.rax = status
        case .vmcall(let call, let exposed):
            let completion = vmcall(call, vcpu: vcpu, service: service, transport: transport, events: &events)
            registers.rax = TDCall.success
            completion.apply(to: &registers, exposedMask: exposed)
        }
        return nil
    }

    /// TDG.MEM.PAGE.ACCEPT. A page the Secure EPT does not hold (shared in KVM's attributes)
    /// takes the EPT-violation path: KVM_EXIT_MEMORY_FAULT, the VMM converts the page to
    /// private, KVM AUGs it, and the TDCALL runs again, now finding it pending.
    private func accept(_ rcx: UInt64, registers: inout TDCallRegisters, vcpu: Int, service: ConversionService,
                        transport: Transport, events: inout [RunEvent]) -> VCPUStop? {
        for _ in 0..<2 {
            guard let result = service.accept(rcx: rcx, sharedBit: width.sharedBit) else {
                return .hostError("TDG.MEM.PAGE.ACCEPT \(hex(rcx)): discarding the accepted page failed")
            }
            let level = rcx & 0x7
            // The size the level names (4 KiB, 2 MiB, 1 GiB; anything else as 4 KiB, for the log).
            let size: UInt64 = level == 1 ? 2 << 20 : level == 2 ? 1 << 30 : 0x1000
            let range = GPARange(start: rcx & ~UInt64(0xFFF), exactByteCount: size)
            switch result {
            case .notPrivate(let page):
                let request = ConversionRequest(range: page, direction: .toPrivate, pageSize: .size4K, origin: .tdxMapGPA)
                let outcome = ConversionLog.convert(request, transport: transport, service: service, vcpu: vcpu, events: &events,
                                                    as: (.tdx, "KVM_EXIT_MEMORY_FAULT (TDG.MEM.PAGE.ACCEPT of a shared page)"))
                guard outcome.succeeded else { return .memoryFault(gpa: page.start, size: 0x1000, isPrivate: true, at: "TDG.MEM.PAGE.ACCEPT") }
                continue
            case .outsideMemory:
                return .platformStopped("TDG.MEM.PAGE.ACCEPT of \(range), which is not guest RAM: the EPT violation has no memslot to fault in, so KVM stops the TD")
            default:
                guard let rax = result.rax else { return .hostError("TDG.MEM.PAGE.ACCEPT \(hex(rcx)) has no answer") }
                registers.rax = rax
                events.append(.validation(vcpu: vcpu, ValidationRecord(
                    interface: .tdx, instruction: "TDG.MEM.PAGE.ACCEPT", operation: "accept", range: range,
                    pageSize: size, result: Self.describe(result), changed: rax == TDCall.success,
                    transport: transport)))
                return nil
            }
        }
        return .hostError("TDG.MEM.PAGE.ACCEPT \(hex(rcx)) did not settle after an implicit conversion")
    }

    private static func describe(_ result: PageStateMap.AcceptResult) -> String {
        switch result {
        case .accepted: "TDX_SUCCESS"
        case .alreadyAccepted: "TDX_PAGE_ALREADY_ACCEPTED (\(hex(result.rax ?? 0)))"
        case .sizeMismatch: "TDX_PAGE_SIZE_MISMATCH (\(hex(result.rax ?? 0)))"
        case .operandInvalid: "TDX_OPERAND_INVALID (\(hex(result.rax ?? 0)))"
        case .notPrivate, .outsideMemory: "-"
        }
    }

    /// Converts chunk by chunk. A forced RETRY is spent only where KVM could answer one:
    /// after a chunk that leaves work to do.
    private mutating func serve(
        _ processor: inout TDXMapGPAProcessor, vcpu: Int, service: ConversionService, transport: Transport, events: inout [RunEvent]
    ) -> TDVMCallCompletion {
        while true {
            let leavesWork = processor.end - processor.next > TDXMapGPAProcessor.chunkSize
            let step = processor.step(injectRetry: leavesWork && retriesToInject > 0) { request in
                ConversionLog.convert(request, transport: transport, service: service, vcpu: vcpu, events: &events)
            }
            guard case .finished(let completion) = step else { continue }
            if completion.status == TDVMCallStatus.retry { retriesToInject -= 1 }
            return completion
        }
    }

    private mutating func vmcall(_ call: TDVMCall, vcpu: Int, service: ConversionService, transport: Transport, events: inout [RunEvent]) -> TDVMCallCompletion {
        switch call {
        case .mapGPA(let gpa, let size):
            let completion: TDVMCallCompletion
            do {
                var processor = try TDXMapGPAProcessor(gpa: gpa, size: size, width: width)
                completion = serve(&processor, vcpu: vcpu, service: service, transport: transport, events: &events)
            } catch {
                completion = error.completion
            }
            if completion.status == TDVMCallStatus.retry {
                events.append(.served(vcpu: vcpu, interface: .tdx, request: "MapGPA gpa \(hex(gpa)) size \(hex(size))",
                                      answer: "RETRY, R11 \(completion.r11.map { hex($0) } ?? "-")"))
            } else if completion.status != TDVMCallStatus.success {
                events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .tdx, transport: transport,
                    request: "MapGPA gpa \(hex(gpa)) size \(hex(size))",
                    answer: "R10 \(hex(completion.status))" + (completion.r11.map { ", R11 \(hex($0))" } ?? ""))))
            }
            return completion
        case .kvmHypercall(let nr, let a0, let a1, let a2, _):
            let rax = KVMHypercallHost.serve(nr: nr, a0: a0, a1: a1, a2: a2, longMode: true, cpl: 0,
                                             transport: transport, service: service, vcpu: vcpu, events: &events)
            return TDVMCallCompletion(hypercallReturnValue: rax)
        case .unsupported(let subfunction):
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .tdx, transport: transport,
                request: "TDVMCALL subfunction \(hex(subfunction))", answer: "R10 \(hex(TDVMCallCompletion.subfunctionUnsupported.status))")))
            return .subfunctionUnsupported
        }
    }
}
