import GuestABI
import GuestPhysical

/// The host's side of KVM_HC_MAP_GPA_RANGE, the same for a trapped `vmcall`/`vmmcall` and a
/// native KVM_EXIT_HYPERCALL: decode as KVM does, convert, answer in rax.
enum KVMHypercallHost {
    static func serve(
        nr: UInt64, a0: UInt64, a1: UInt64, a2: UInt64, longMode: Bool, cpl: UInt8,
        transport: Transport, service: ConversionService, vcpu: Int, events: inout [RunEvent]
    ) -> UInt64 {
        let request: ConversionRequest
        do {
            request = try MapGPARange.decode(nr: nr, a0: a0, a1: a1, a2: a2, longMode: longMode, cpl: cpl)
        } catch {
            let rax = error.returnValue(longMode: longMode)
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .kvm, transport: transport,
                        request: "hypercall \(nr) gpa \(hex(a0)) npages \(a1) attributes \(hex(a2))",
                        answer: "rax = \(hex(rax)) (\(error))")))
            return rax
        }
        let outcome = ConversionLog.convert(request, transport: transport, service: service, vcpu: vcpu, events: &events)
        return MapGPARange.returnValue(for: outcome, longMode: longMode)
    }
}
