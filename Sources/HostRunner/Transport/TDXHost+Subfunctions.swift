import GuestABI
import GuestPhysical

/// The TDG.VP.VMCALL sub-functions other than MapGPA, decoded by `TDVMCallRequest` and
/// answered as KVM's `handle_tdvmcall` and `tdx_emulate_*` answer them
/// (arch/x86/kvm/vmx/tdx.c; the GHCI's status codes). Every access reaches the vCPU's
/// `GuestDevices`, the dispatch raw exits use too.
extension TDXHost {
    /// Serves one sub-function: `answer` is set to what the guest gets; a finish when the
    /// vCPU does not resume (HLT with nothing to wake it, ReportFatalError) or a forwarded
    /// port write ended the run.
    func serveSubfunction(
        _ registers: TDCallRegisters, exposedMask: UInt16, devices: GuestDevices, transport: Transport, vcpu: Int,
        events: inout [RunEvent], answer: inout TDVMCallAnswer
    ) -> VCPUFinish? {
        let request: TDVMCallRequest
        switch TDVMCallRequest.decode(registers, exposedMask: exposedMask, width: width) {
        case .request(let decoded):
            request = decoded
        case .answer(let immediate, let reason):
            answer = immediate
            switch reason {
            case .served:
                events.append(.served(vcpu: vcpu, interface: .tdx, request: .tdVmCallInfo(leaf: 0), answer: "SUCCESS, R11-R14 0"))
            case .invalidOperand(let operand):
                events.append(
                    .rejected(
                        vcpu: vcpu,
                        RejectedRequest(
                            interface: .tdx, transport: transport,
                            request: "TDVMCALL subfunction \(hex(registers.r11)) (\(operand))", answer: "R10 \(hex(immediate.status)) (INVALID_OPERAND)")))
            case .subfunctionUnsupported(let subfunction):
                events.append(
                    .rejected(
                        vcpu: vcpu,
                        RejectedRequest(
                            interface: .tdx, transport: transport,
                            request: "TDVMCALL subfunction \(hex(subfunction))", answer: "R10 \(hex(immediate.status))")))
            }
            return nil
        }
        func served(_ what: ServedRequest, _ words: String) {
            events.append(.served(vcpu: vcpu, interface: .tdx, request: what, answer: words))
        }
        func refused(_ what: String) {
            answer = .invalidOperand
            events.append(
                .rejected(
                    vcpu: vcpu,
                    RejectedRequest(
                        interface: .tdx, transport: transport, request: what,
                        answer: "R10 \(hex(TDVMCallStatus.invalidOperand)) (INVALID_OPERAND)")))
        }
        var finish: VCPUFinish?
        switch request {
        case let .cpuid(leaf, subleaf):
            // KVM answers from the vCPU's list (tdx_emulate_cpuid → kvm_cpuid); a TD's XCR0 is
            // not KVM's to see, so leaf 0xD reads as the list holds it.
            let registers = devices.cpuid(leaf: leaf, subleaf: subleaf, xcr0: nil, xss: nil)
            answer = .cpuid(eax: registers.eax, ebx: registers.ebx, ecx: registers.ecx, edx: registers.edx)
            served(.cpuid(leaf: leaf, subleaf: subleaf), registers.description)
        case let .hlt(blocked):
            // KVM halts the vCPU in the kernel (kvm_emulate_halt_noskip) until an interrupt
            // wakes it; this runner has no interrupt source, so nothing ever does.
            served(.hlt(interruptsBlocked: blocked), "halted")
            return .stopped(.halted(at: "TDVMCALL<Instruction.HLT>\(blocked ? " with interrupts blocked" : ""), which nothing here can wake"))
        case let .portIn(port, size):
            let data = PortBuffer(size: size, count: 1)
            finish = devices.port(port, isWrite: false, size: size, count: 1, data: data)
            let value = data.load(width: size)
            answer = .read(value, size: size)
            served(.portIO(port: port, size: size, count: 1, write: false), hex(value))
        case let .portOut(port, size, value):
            finish = devices.port(port, isWrite: true, size: size, count: 1, data: PortBuffer(value: value, size: size))
            answer = .success
            served(.portIO(port: port, size: size, count: 1, write: true), "done")
        case let .msrRead(index):
            // A refused MSR is INVALID_OPERAND (tdx.c tdx_complete_emulated_msr).
            if let value = devices.forwardedReadMSR(index) {
                answer = .msrRead(value)
                served(.msr(index: index, write: false), hex(value))
            } else {
                refused("RDMSR \(hex(index))")
            }
        case let .msrWrite(index, value):
            if devices.forwardedWriteMSR(index, value: value) {
                answer = .success
                served(.msr(index: index, write: true), "done")
            } else {
                refused("WRMSR \(hex(index)) value \(hex(value))")
            }
        case let .mmioRead(gpa, size):
            let (bytes, target) = devices.mmioRead(gpa: gpa, length: size)
            let value = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            answer = .read(value, size: size)
            served(.mmio(gpa: gpa, size: size, write: false), "\(target.words): \(hex(value))")
        case let .mmioWrite(gpa, size, value):
            let target = devices.mmioWrite(gpa: gpa, bytes: (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
            answer = .success
            served(.mmio(gpa: gpa, size: size, write: true), target == .nothing ? "no device: dropped" : "\(target.words): written")
        case .tdVmCallInfo:
            answer = .tdVmCallInfo
            served(.tdVmCallInfo(leaf: 1), "SUCCESS, R11-R14 0")
        case let .reportFatalError(errorCode, gpa, message):
            return .stopped(.terminationRequested(.tdxFatalError(errorCode: errorCode, gpa: gpa, message: String(decoding: message, as: UTF8.self))))
        case .conversion:
            return .stopped(.hostError("a conversion reached the TDVMCALL sub-function service"))
        }
        return finish
    }
}
