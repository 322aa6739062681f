import GuestABI
import GuestPhysical

/// The host's side of TDCALL for one vCPU: decodes each TDCALL, hands the TDX module's leaves
/// (TDG.VP.INFO, TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT) to the platform's `TDXModule`, and
/// serves KVM's (TDG.VP.VMCALL<MapGPA>, in ≤ 2 MiB chunks, with RETRY when the runner is
/// asked to force one) and unknown leaves itself.
struct TDXHost {
    /// The TDX module this vCPU's TDCALLs reach (its VE_INFO is per vCPU).
    var module: TDXModule
    var width: TDXGuestPhysicalAddressWidth { module.width }
    /// RETRYs still to force (a test hook: `--inject-retry N`).
    var retriesToInject: Int

    init(width: TDXGuestPhysicalAddressWidth, vcpuCount: Int, retriesToInject: Int, attributes: UInt64 = RunOptions.tdxSeptVEDisable) {
        module = TDXModule(width: width, vcpuCount: vcpuCount, attributes: attributes)
        self.retriesToInject = retriesToInject
    }

    /// Serves one TDCALL; a finish is returned where the platform would not resume the guest
    /// (a stop) or a forwarded port write ended the run (the exit port).
    @discardableResult
    mutating func tdcall(
        _ registers: inout TDCallRegisters, vcpu: Int, service: ConversionService, devices: GuestDevices,
        transport: Transport, events: inout [RunEvent]
    ) -> VCPUFinish? {
        switch TDCall.decode(registers) {
        case .vpInfo:
            module.vpInfo(&registers, vcpu: vcpu, events: &events)
        case .veInfoGet:
            module.veInfoGet(&registers, vcpu: vcpu, events: &events)
        case .memPageAccept(let pageInfo):
            return module.accept(pageInfo, registers: &registers, vcpu: vcpu, service: service, transport: transport, events: &events)
                .map(VCPUFinish.stopped)
        case .failed(let status):
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .tdx, transport: transport,
                        request: "TDCALL leaf \(registers.rax)", answer: "rax = \(hex(status))")))
            registers.rax = status
        case .vmcall(.unsupported, let exposed):
            // Not a conversion: a subfunction of the devices', the GHCI's, or unknown.
            var answer = TDVMCallAnswer.subfunctionUnsupported
            let finish = serveSubfunction(
                registers, exposedMask: exposed, devices: devices, transport: transport, vcpu: vcpu,
                events: &events, answer: &answer)
            if case .stopped = finish { return finish } // the guest does not resume
            answer.apply(to: &registers, exposedMask: exposed)
            return finish
        case .vmcall(let call, let exposed):
            let completion = vmcall(call, vcpu: vcpu, service: service, transport: transport, events: &events)
            registers.rax = TDCall.success
            completion.apply(to: &registers, exposedMask: exposed)
        }
        return nil
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

    private mutating func vmcall(_ call: TDVMCall, vcpu: Int, service: ConversionService, transport: Transport, events: inout [RunEvent]) -> TDVMCallCompletion
    {
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
                events.append(
                    .served(
                        vcpu: vcpu, interface: .tdx, request: .mapGPA(gpa: gpa, size: size),
                        answer: "RETRY, R11 \(completion.r11.map { hex($0) } ?? "-")"))
            } else if completion.status != TDVMCallStatus.success {
                events.append(
                    .rejected(
                        vcpu: vcpu,
                        RejectedRequest(
                            interface: .tdx, transport: transport,
                            request: "MapGPA gpa \(hex(gpa)) size \(hex(size))",
                            answer: "R10 \(hex(completion.status))" + (completion.r11.map { ", R11 \(hex($0))" } ?? ""))))
            }
            return completion
        case .kvmHypercall(let nr, let a0, let a1, let a2, _):
            let rax = KVMHypercallHost.serve(
                nr: nr, a0: a0, a1: a1, a2: a2, longMode: true, cpl: 0,
                transport: transport, service: service, vcpu: vcpu, events: &events)
            return TDVMCallCompletion(hypercallReturnValue: rax)
        case .unsupported(let subfunction):
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .tdx, transport: transport,
                        request: "TDVMCALL subfunction \(hex(subfunction))", answer: "R10 \(hex(TDVMCallCompletion.subfunctionUnsupported.status))")))
            return .subfunctionUnsupported
        }
    }
}
