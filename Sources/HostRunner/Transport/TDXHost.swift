import GuestABI
import Payload

/// The host's side of TDCALL for one vCPU, standing in for both the TDX module (TDG.VP.INFO,
/// unknown leaves) and KVM (TDG.VP.VMCALL<MapGPA>, served in ≤ 2 MiB chunks, with RETRY
/// when the runner is asked to force one).
struct TDXHost {
    let width: TDXGuestPhysicalAddressWidth
    let vcpuCount: Int
    /// RETRYs still to force (a test hook: `--inject-retry N`).
    var retriesToInject: Int

    mutating func tdcall(_ registers: inout TDCallRegisters, vcpu: Int, service: ConversionService, transport: Transport, events: inout [RunEvent]) {
        switch TDCall.decode(registers) {
        case .vpInfo:
            TDXVPInfo(width: width, vcpuCount: UInt32(vcpuCount), maxVCPUCount: UInt32(vcpuCount), vcpuIndex: UInt32(vcpu)).apply(to: &registers)
            events.append(.served(vcpu: vcpu, interface: .tdx, request: "TDG.VP.INFO", answer: "GPAW \(width.rawValue)"))
        case .memPageAccept(let pageInfo):
            // Nothing to accept: this host keeps no per-page acceptance state.
            registers.rax = TDCall.success
            events.append(.served(vcpu: vcpu, interface: .tdx, request: "TDG.MEM.PAGE.ACCEPT \(hex(pageInfo))", answer: "success"))
        case .failed(let status):
            events.append(.rejected(vcpu: vcpu, RejectedRequest(interface: .tdx, transport: transport,
                request: "TDCALL leaf \(registers.rax)", answer: "rax = \(hex(status))")))
            registers.rax = status
        case .vmcall(let call, let exposed):
            let completion = vmcall(call, vcpu: vcpu, service: service, transport: transport, events: &events)
            registers.rax = TDCall.success
            completion.apply(to: &registers, exposedMask: exposed)
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
