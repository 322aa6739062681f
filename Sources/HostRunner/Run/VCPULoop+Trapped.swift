import GuestPhysical
import KVM
import Payload

/// Debug exits: a request site's breakpoint, served by the run's platform, or the guest's own
/// #DB, delivered back to it; and the exceptions the runner injects.
extension VCPULoop {
    func serveDebug(exception: UInt32, pc: UInt64, dr6: UInt64) -> VCPUFinish? {
        if watchingForPaging, GuestDebugException.isSingleStep(exception: exception, dr6: dr6) {
            let finished = pagingStep()
            if finished != nil || !machine.options.catchRawCPUID { return finished }
        }
        let catching = machine.options.catchRawCPUID
        if let step = steppingOver {
            steppingOver = nil
            do {
                try vcpu.setHardwareBreakpoints(machine.armedSites, singleStep: catching)
            } catch {
                return .stopped(.hostError("re-arming the request site at \(machine.image.symbolize(step.site)) after a single step: \(error)"))
            }
            if GuestDebugException.isSingleStep(exception: exception, dr6: dr6) {
                // The guest's own TF trap for that instruction: KVM reported it to us instead.
                guard step.guestTrapOwed else { return catching ? catchRawCPUID() : nil }
                return deliverDebugException(
                    payload: GuestDebugException.singleStep, skip: 0,
                    cause: "single step over the guest's instruction at the rewritten request site \(machine.image.symbolize(step.site))")
            }
        }
        // --catch-cpuid: the runner's own step, ending before the next instruction.
        if catching, GuestDebugException.isSingleStep(exception: exception, dr6: dr6) { return catchRawCPUID() }
        switch GuestDebugException.classify(exception: exception, dr6: dr6, pc: pc, sites: sites, opcode: { self.codeByte(at: pc) }) {
        case .site(let armed):
            return serveSite(armed: armed, at: pc)
        case .guest(let payload, let skip):
            return deliverDebugException(
                payload: payload, skip: skip,
                cause: "\(skip > 0 ? "ICEBP" : "a debug exception") at \(machine.image.symbolize(pc)), the guest's own (DR6 \(hex(dr6)))")
        case .unexpected:
            return .stopped(.unexpectedDebug(at: location()))
        }
    }

    /// At a site armed for `armed`: reads what an instruction fetch at `pc` reads now, through
    /// the guest's tables, and serves the request there (`RequestSiteCheck`), or lets the
    /// guest's own instruction run when it is none the run serves.
    private func serveSite(armed: RequestInstruction, at pc: UInt64) -> VCPUFinish? {
        let sregs: SpecialRegisters
        do { sregs = try vcpu.getSpecialRegisters() } catch { return .stopped(.hostError("\(error)")) }
        let bytes = GuestPageWalk.codeBytes(
            at: pc, count: RequestInstruction.longest, sregs: sregs, memory: machine.memory,
            encryptionMask: machine.platform.pageTableEncryptionBit)
        let action = RequestSiteCheck.action(armed: armed, bytes: bytes, platform: machine.platform.identity)
        if action != .serve(armed) {
            let answer = if case .serve(let found) = action { "served as \(found)" } else { "the guest's instruction ran (one single step)" }
            recorder.pending.append(
                .served(
                    vcpu: index, interface: armed.platform,
                    request: .rewrittenSite(armed: armed, holds: bytes, at: machine.image.symbolize(pc)), answer: answer))
        }
        switch action {
        case .serve(let instruction): return serveTrapped(instruction, at: pc, sregs: sregs)
        case .execute: return stepOverSite(at: pc)
        }
    }

    /// Runs the guest's own instruction at the site `pc`: that site's breakpoint off and
    /// KVM_GUESTDBG_SINGLESTEP on for one instruction, re-armed at the step's debug exit
    /// (`serveDebug`). RFLAGS.RF would be the hardware's way, but KVM's emulator checks user
    /// space's breakpoints without it (x86.c kvm_vcpu_check_code_breakpoint), and on this
    /// project's kvm_pvm hosts the breakpoint fires again with RF set (docs/host-findings.md).
    private func stepOverSite(at pc: UInt64) -> VCPUFinish? {
        do {
            let guestTF = try vcpu.getRegisters().rflags & GuestDebugException.trapFlag != 0
            try vcpu.setHardwareBreakpoints(machine.armedSites.filter { $0 != pc }, singleStep: true)
            steppingOver = SiteStep(site: pc, guestTrapOwed: guestTF)
            return nil
        } catch {
            return .stopped(.hostError("single-stepping the rewritten request site at \(machine.image.symbolize(pc)): \(error)"))
        }
    }

    /// Serves a request the hardware breakpoint at `pc` caught before it executed, through the
    /// run's platform, writes its answer, and skips the instruction.
    func serveTrapped(_ instruction: RequestInstruction, at pc: UInt64, sregs: SpecialRegisters) -> VCPUFinish? {
        guard machine.platform.identity == instruction.platform else {
            let expected = machine.platform.identity.map { "as \($0.rawValue)" } ?? "with no confidential platform"
            return .stopped(
                .unsupportedRequest(
                    "\(instruction) at \(machine.image.symbolize(pc)) from a guest running \(expected) (choose the platform with --platform \(instruction.platform.rawValue))"
                ))
        }
        do {
            var outcome = TrappedOutcome.completed, singleStep = false
            try vcpu.modifyRegisters { regs in
                var request = TrappedRequest(regs: regs, sregs: sregs, pc: pc, machine: machine, devices: devices, events: [])
                swap(&request.events, &recorder.pending)
                outcome = guest.serve(instruction, &request)
                swap(&request.events, &recorder.pending)
                regs = request.regs
                if case .faulted = outcome { return } // a fault is taken at the instruction
                regs.rip &+= instruction.length
                singleStep = regs.rflags & GuestDebugException.trapFlag != 0
            }
            switch outcome {
            case .stopped(let reason):
                return .stopped(reason)
            case .exited(let code):
                return .exited(code)
            case .faulted(let fault):
                try vcpu.injectException(vector: fault.vector, errorCode: fault.errorCode)
                injected = InjectedException(vector: UInt64(fault.vector), cause: fault.cause)
                return nil
            case .completed:
                break
            }
            // TF was set as the instruction began: its single-step trap follows it, as KVM
            // gives one after every instruction it skips itself (x86.c
            // kvm_skip_emulated_instruction → kvm_vcpu_do_singlestep, payload DR6.BS).
            if singleStep {
                return deliverDebugException(
                    payload: GuestDebugException.singleStep, skip: 0,
                    cause: "single step over the \(instruction) at \(machine.image.symbolize(pc)), which the runner served")
            }
            // The runner moved RIP itself: no step exit comes before the next instruction runs.
            return machine.options.catchRawCPUID ? catchRawCPUID() : nil
        } catch {
            return .stopped(.hostError("\(error)"))
        }
    }

    /// Delivers a #DB the guest caused (`GuestDebugException`): RIP moved past `skip` bytes,
    /// the guest's DR6 as KVM leaves it when it delivers one with `payload`, then vector 1
    /// through the guest's IDT, as QEMU re-injects one (target/i386/kvm kvm_handle_debug:
    /// DR6 first, then KVM_SET_VCPU_EVENTS).
    func deliverDebugException(payload: UInt64, skip: UInt64, cause: String) -> VCPUFinish? {
        do {
            if skip > 0 { try vcpu.modifyRegisters { $0.rip &+= skip } }
            try vcpu.updateGuestDR6 { GuestDebugException.dr6(delivering: payload, over: $0) }
            try vcpu.injectException(vector: GuestDebugException.vector)
        } catch {
            return .stopped(.hostError("delivering #DB (\(cause)): \(error)"))
        }
        injected = InjectedException(vector: UInt64(GuestDebugException.vector), cause: cause)
        return nil
    }

    /// The byte of code at the linear address `linear`, through the guest's tables (SNP: the
    /// C-bit dropped from them).
    func codeByte(at linear: UInt64) -> UInt8? {
        guard let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        return GuestPageWalk.codeByte(at: linear, sregs: sregs, memory: machine.memory, encryptionMask: machine.platform.pageTableEncryptionBit)
    }

    /// The linear RIP when the instruction there is an ICEBP, else nil.
    func icebpAtRIP() -> UInt64? {
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        let rip = sregs.cs.base &+ regs.rip
        return codeByte(at: rip) == GuestDebugException.icebpOpcode ? rip : nil
    }
}
