import GuestABI
import GuestPhysical
import KVM
import Payload

/// Accesses the platform's private memory did not let through, as the vCPU's exits bring
/// them: the run's platform decides (`GuestPlatform.implicitConversion`,
/// `PlatformVCPU.unacceptedAccess`); this applies its answer to the vCPU.
extension VCPULoop {
    /// An access the guest's views did not let through (KVM_EXIT_MMIO at a protected page):
    /// answered as the platform does. A read exits before it retires: it is cancelled
    /// (completed with immediate_exit, then the registers put back), so it has no effect and
    /// runs again, after an implicit conversion, or meets the platform's fault at its own RIP.
    /// A write exits after KVM's emulator retired it (RIP past it, its bytes in the exit): the
    /// runner lands those bytes itself where the platform lets the retried write through, and
    /// where the platform faults, puts RIP back at the instruction (`FaultingAccess`).
    func enforce(_ address: ViewAddress, isWrite: Bool, data: ExitBytes, views: GuestViews) -> VCPUFinish? {
        var (privateView, gpa) = views.decode(address)
        if !privateView, machine.platform.unpagedAccessesArePrivate, let sregs = try? vcpu.getSpecialRegisters(),
            sregs.cr0 & BootState.cr0Paging == 0
        {
            if let served = unpagedPrivateAccess(gpa: gpa, isWrite: isWrite, data: data, views: views) { return served }
            privateView = true
        }
        var outcome = machine.service.access(gpa: gpa, privateView: privateView, isWrite: isWrite)
        if case .outsideMemory = outcome { return outsideMemory(address, isWrite: isWrite, data: data, views: views) }
        let at = location()
        if case .ciphertextRead = outcome {
            // Not cancelled: the read completes (KVM finishes the instruction with these bytes).
            views.ciphertext(at: gpa, into: data, memory: machine.memory)
            recorder.pending.append(
                .served(
                    vcpu: index, interface: .sevSNP, request: .ciphertextRead(page: gpa & ~0xFFF, at: at),
                    answer: "ciphertext (the RMP checks no C=0 read)"))
            return nil
        }
        let written: [UInt8]? = isWrite ? Array(data.bytes) : nil
        do {
            try cancelAccess(restoringRegisters: !isWrite)
        } catch {
            return .stopped(.hostError("cancelling the access at \(hex(address.raw)): \(error)"))
        }
        if control.timedOut { return .stopped(.timeout(after: control.timeout, at: at)) }
        if case .implicitConversion(let page, let target) = outcome {
            let conversion = machine.platform.implicitConversion(of: page, to: target, privateView: privateView, isWrite: isWrite)
            let result = ConversionLog.convert(
                conversion.request, transport: .trap, service: machine.service, vcpu: index,
                events: &recorder.pending, as: (conversion.platform, conversion.form))
            guard result.succeeded else {
                return .stopped(
                    .memoryFault(
                        gpa: address.raw, size: 0x1000, isPrivate: privateView, at: "\(at) (page states: \(machine.service.describeStates(around: gpa)))"))
            }
            guard isWrite else { return nil } // the read runs again
            outcome = machine.service.access(gpa: gpa, privateView: privateView, isWrite: true)
        }
        guard case .notAccepted = outcome else {
            // Let through (after the conversion, or because another vCPU changed the page
            // meanwhile): a read runs again; a write lands as the retried write would.
            if let written { machine.memory.write(written, at: views.bitMeansPrivate ? gpa : address.raw) }
            return nil
        }
        return unaccepted(address, gpa: gpa, written: written, views: views, at: at)
    }

    /// A paging-off access on a platform that makes it private (SEV): its address carries no
    /// C-bit, so it arrived through the shared view, closed for a private page. Where the
    /// private view lets it through, the runner completes it there: a read with the page's
    /// bytes (KVM finishes the instruction with them), a write, which KVM's emulator has
    /// retired, by landing its bytes. `.some(nil)`: done; nil: the platform's rules for a
    /// private access decide (a shared page converts; an unvalidated one faults).
    private func unpagedPrivateAccess(gpa: UInt64, isWrite: Bool, data: ExitBytes, views: GuestViews) -> VCPUFinish?? {
        guard case .allowed = machine.service.access(gpa: gpa, privateView: true, isWrite: isWrite) else { return nil }
        let privateAddress = views.bitMeansPrivate ? gpa : gpa | views.viewBit
        if isWrite {
            guard machine.memory.write(Array(data.bytes), at: privateAddress) else { return nil }
        } else {
            for offset in 0..<data.count { data[offset] = machine.memory.load(UInt8.self, at: privateAddress &+ UInt64(offset)) ?? 0 }
        }
        return .some(nil)
    }

    /// The platform's answer to an access of a page not validated (SNP) / pending (TDX): the
    /// fault at the instruction, naming the linear address it used, or the guest's end.
    private func unaccepted(_ address: ViewAddress, gpa: UInt64, written: [UInt8]?, views: GuestViews, at: String) -> VCPUFinish? {
        // The host's GPA of the access as the guest's tables map it (SNP: C-bit dropped from them).
        let walked = views.bitMeansPrivate ? gpa : address.raw, encryptionMask = views.bitMeansPrivate ? views.viewBit : 0
        let (at, linear) = locateAccess(walked: walked, written: written, encryptionMask: encryptionMask, at: at)
        let access = UnacceptedAccess(
            gpa: gpa, address: address, linear: linear, isWrite: written != nil, at: at,
            states: machine.service.describeStates(around: gpa), section: machine.firmwareSections?.name(gpa))
        return deliver(guest.unacceptedAccess(access))
    }

    /// The instruction behind an access that exited as KVM_EXIT_MMIO, for a fault taken at it:
    /// a retired write's RIP is put back at its start (`FaultingAccess.instructionStart`), and
    /// the linear address it used is recovered where it can be. `walked`: the GPA as the
    /// guest's tables map it (`encryptionMask` dropped in the walk). Returns where the vCPU
    /// now is and the linear address.
    func locateAccess(walked: UInt64, written: [UInt8]?, encryptionMask: UInt64, at: String) -> (at: String, linear: UInt64?) {
        var at = at
        var linear: UInt64?
        if let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() {
            var rip: UInt64? = regs.rip
            if let written {
                rip = FaultingAccess.instructionStart(
                    ripAfter: regs.rip, wrote: walked, bytes: written.count, regs: regs, sregs: sregs,
                    memory: machine.memory, encryptionMask: encryptionMask)
                if let start = rip, (try? vcpu.modifyRegisters { $0.rip = start }) != nil {
                    at = location()
                } else {
                    at += " (just after the writing instruction, whose start could not be recovered)"
                }
            }
            linear =
                rip.flatMap {
                    FaultingAccess.linearAddress(
                        instructionAt: $0, accessed: walked, regs: regs, sregs: sregs,
                        memory: machine.memory, encryptionMask: encryptionMask)
                }
                ?? GuestPageWalk.linearAddresses(mapping: walked, cr3: sregs.cr3, memory: machine.memory, encryptionMask: encryptionMask)
                .flatMap { $0.count == 1 ? $0.first : nil }
        }
        return (at, linear)
    }

    /// Applies a platform's answer to an access it does not let through: the exception (with
    /// CR2 where the platform sets it, remembered for the guest's report) or the end.
    func deliver(_ fault: AccessFault) -> VCPUFinish? {
        switch fault {
        case .stop(let reason):
            return .stopped(reason)
        case .inject(let vector, let errorCode, let cr2, let remembered, let served):
            do {
                if let cr2 { try vcpu.modifySpecialRegisters { $0.cr2 = cr2 } }
                try vcpu.injectException(vector: vector, errorCode: errorCode)
            } catch {
                return .stopped(.hostError("injecting \(VCPUStop.vectorName(UInt64(vector))): \(error)"))
            }
            if let remembered { injected = remembered }
            recorder.pending.append(served)
            return nil
        }
    }

    /// Completes the pending MMIO access with immediate_exit set, so KVM retires the
    /// instruction and returns before entering the guest; for a read, then restores the
    /// registers it had before: the access never happened (memory was never touched: the host
    /// completed nothing into it). A write was retired before the exit already.
    func cancelAccess(restoringRegisters: Bool) throws(KVMError) {
        let before = try vcpu.getRegisters()
        vcpu.kicker.kick() // not in KVM_RUN: only sets immediate_exit
        _ = try vcpu.run()
        if restoringRegisters { try vcpu.setRegisters(before) }
    }

    /// KVM_EXIT_MEMORY_FAULT: where KVM enforces private memory, an access that does not match
    /// a page's state is an implicit conversion request (the PRIVATE flag gives the access's
    /// kind): convert the page(s) and let the access retry. Elsewhere it is a diagnosis.
    func serveImplicit(gpa: UInt64, size: UInt64, toPrivate: Bool) -> VCPUFinish? {
        let pageMask: UInt64 = 0xFFF
        let start = gpa & ~pageMask
        let (end, overflow) = gpa.addingReportingOverflow(max(size, 1) + pageMask)
        guard machine.service.enforcesPrivateMemory, !overflow,
            let range = try? GPARange(start: start, byteCount: (end & ~pageMask) - start)
        else {
            return .stopped(.memoryFault(gpa: gpa, size: size, isPrivate: toPrivate, at: location()))
        }
        let request = ConversionRequest(range: range, direction: toPrivate ? .toPrivate : .toShared, pageSize: .size4K, origin: .kvmHypercall)
        let outcome = ConversionLog.convert(
            request, transport: .native, service: machine.service, vcpu: index, events: &recorder.pending,
            as: (machine.platform.identity ?? .kvm, .memoryFault(nil)))
        return outcome.succeeded ? nil : .stopped(.memoryFault(gpa: gpa, size: size, isPrivate: toPrivate, at: location()))
    }
}
