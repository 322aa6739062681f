import GuestPhysical
import KVM

/// x87/SSE control instructions the host's KVM cannot run. On kvm_pvm every guest
/// instruction goes through KVM's emulator, which has no FWAIT, FLDCW, LDMXCSR or STMXCSR
/// (docs/host-findings.md), so firmware's `InitializeFloatingPointUnits` ends in an emulation
/// failure. The runner performs them on the vCPU's own XSAVE state (`X87ControlExecution`,
/// with the SDM's faults) and goes on; every one is counted in the run's events.
extension VCPULoop {
    /// Performs the control instruction at RIP when there is one; nil when the bytes there are
    /// none of them (the emulation failure stands), else what the loop does next.
    func emulateControlInstruction() -> VCPUFinish?? {
        guard var regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        let codeSize: CodeSize =
            sregs.cr0 & BootState.cr0ProtectedMode == 0 ? .bits16 : sregs.cs.l == 1 ? .bits64 : sregs.cs.db == 1 ? .bits32 : .bits16
        let rip = sregs.cs.base &+ regs.rip
        let mask = machine.platform.pageTableEncryptionBit
        let bytes = GuestPageWalk.codeBytes(at: rip, count: X87ControlDecoder.maximumLength, sregs: sregs, memory: machine.memory, encryptionMask: mask)
        guard let decoded = try? X87ControlDecoder.decode(bytes, codeSize: codeSize) else { return nil }
        let at = machine.symbolize(rip)
        var operandAddress: UInt64?
        if let memory = decoded.memory {
            let offset = memory.effectiveAddress(register: { regs.general($0) }, instructionEnd: regs.rip &+ UInt64(decoded.length))
            let linear = memory.linearAddress(effectiveAddress: offset, segmentBase: Self.segmentBase(memory.segment, sregs), codeSize: codeSize)
            guard let physical = GuestPageWalk.physicalAddress(ofLinear: linear, sregs: sregs, memory: machine.memory, encryptionMask: mask) else {
                return .some(.stopped(.hostError("emulating \(decoded.instruction) at \(at): its operand at linear \(hex(linear)) is not mapped")))
            }
            operandAddress = physical
        }
        do {
            let area = try vcpu.getXSAVE()
            var state = X87ControlState(area)
            var operand: UInt32 = 0
            if let operandAddress, decoded.instruction.readsMemory {
                let value =
                    decoded.instruction.operandBytes == 2
                    ? machine.memory.load(UInt16.self, at: operandAddress).map(UInt32.init) : machine.memory.load(UInt32.self, at: operandAddress)
                guard let value else {
                    return .some(.stopped(.hostError("emulating \(decoded.instruction) at \(at): its operand at \(hex(operandAddress)) is not guest memory")))
                }
                operand = value
            }
            let outcome = X87ControlExecution.perform(
                decoded.instruction, on: &state, context: X87ControlContext(cr0: sregs.cr0, cr4: sregs.cr4), operand: operand,
                mxcsrMask: area.mxcsrMask == 0 ? X87ControlExecution.defaultMXCSRMask : area.mxcsrMask)
            switch outcome {
            case .fault(let exception):
                try vcpu.injectException(vector: exception.vector, errorCode: exception == .generalProtection ? 0 : nil)
                injected = InjectedException(vector: UInt64(exception.vector), cause: "\(decoded.instruction) at \(at), performed by the runner")
                return .some(nil)
            case .legacyFloatingPointError:
                return .some(
                    .stopped(.hostError("\(decoded.instruction) at \(at) raises an x87 error with CR0.NE clear (FERR#), which the runner does not model")))
            case .store(let value, let count):
                guard let operandAddress,
                    machine.memory.write(Array(withUnsafeBytes(of: value.littleEndian) { $0.prefix(count) }), at: operandAddress)
                else {
                    return .some(.stopped(.hostError("emulating \(decoded.instruction) at \(at): its operand is not guest memory")))
                }
            case .completed:
                break
            }
            try vcpu.setXSAVE(state.applied(to: area))
            regs.rip &+= UInt64(decoded.length)
            try vcpu.setRegisters(regs)
            recorder.pending.append(.emulated(vcpu: index, instruction: "\(decoded.instruction)", at: at))
            return .some(nil)
        } catch {
            return .some(.stopped(.hostError("emulating \(decoded.instruction) at \(at): \(error)")))
        }
    }

    static func segmentBase(_ segment: SegmentRegister, _ sregs: SpecialRegisters) -> UInt64 {
        switch segment {
        case .es: sregs.es.base
        case .cs: sregs.cs.base
        case .ss: sregs.ss.base
        case .ds: sregs.ds.base
        case .fs: sregs.fs.base
        case .gs: sregs.gs.base
        }
    }
}

extension VCPULoop {
    /// A raw MMIO access a board device decodes (the local APIC a firmware volume programs):
    /// KVM completes a read with the bytes left in the exit at the next KVM_RUN.
    func serveBoard(mmio address: UInt64, isWrite: Bool, data: ExitBytes) -> VCPUFinish? {
        if isWrite {
            _ = devices.mmioWrite(gpa: address, bytes: Array(data.bytes))
        } else {
            for (offset, byte) in devices.mmioRead(gpa: address, length: data.count).bytes.enumerated() { data[offset] = byte }
        }
        return nil
    }
}
