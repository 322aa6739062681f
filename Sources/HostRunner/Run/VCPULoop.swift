import Foundation
import GuestABI
import GuestPhysical
import KVM
import Payload

/// Runs one vCPU until it stops and turns every exit into events. One instance per vCPU
/// thread; nothing here is shared between vCPUs except the `RunControl`.
///
/// The loop is the hot path: each exit costs ~20 µs of kernel time here, so the handling of
/// the common exits (port I/O) does no allocation beyond appending to buffers sized up front.
final class VCPULoop {
    let index: Int
    let vcpu: VCPU
    let machine: Machine
    let control: RunControl
    /// The events this vCPU kept (the run's `EventBudget` decides which).
    private(set) var events: [RunEvent] = []
    /// Every CHECKSUM kept, with the host's checksum computed when the record arrived (once,
    /// on the vCPU's own time, so the watchdog bounds it too).
    private(set) var checksums: [RunResult.ChecksumComparison] = []
    /// Failed CHECKs and mismatched CHECKSUMs past the budget: not kept, but still failures.
    private(set) var failuresNotKept = 0
    /// Where the transports append what they did; moved into `events` through the budget.
    private var pending: [RunEvent] = []
    private(set) var exits = 0
    private var line: [UInt8] = []
    private var logBytes = 0
    private var droppedLogBytes = 0
    private var malformed = 0
    /// Accesses to ports and MSRs nobody serves: the first ones are logged, the rest counted,
    /// so a guest hammering an unknown port cannot grow the event log without bound.
    private var unserved = 0
    static let unservedLogged = 256
    private var ghcb = GHCBHost()
    /// The last exception the runner injected (vector, and why, with the GPA), so the guest's
    /// own report of it can say what the hardware would have told it.
    private var lastInjected: (vector: UInt64, cause: String)?
    private var tdx: TDXHost
    /// The machine's request sites as a list: at most four per interface, so a debug exit
    /// finds its site by a scan of a few words instead of hashing the address.
    private let sites: [(address: UInt64, instruction: RequestInstruction)]

    init(index: Int, vcpu: VCPU, machine: Machine, control: RunControl) {
        self.index = index
        self.vcpu = vcpu
        self.machine = machine
        self.control = control
        sites = machine.sites.map { (address: $0.key, instruction: $0.value) }
        tdx = TDXHost(width: machine.options.tdxAddressWidth, vcpuCount: machine.options.vcpus,
                      retriesToInject: machine.options.injectRetries, attributes: machine.options.tdxAttributes)
        events.reserveCapacity(64)
        pending.reserveCapacity(4)
        line.reserveCapacity(256)
    }

    /// Runs until the guest reports an exit code or something stops it.
    func run() {
        control.register(vcpu.kicker)
        while true {
            let exit: VCPUExit
            do {
                exit = try vcpu.run()
            } catch {
                return stop(.hostError("\(error)"))
            }
            exits += 1
            let finished = handle(exit)
            if !pending.isEmpty { keepPending() }
            if let finished {
                flushLine()
                switch finished {
                case .exited(let code): events.append(.exited(vcpu: index, code: code))
                case .stopped(let reason): events.append(.stopped(vcpu: index, reason))
                }
                return
            }
        }
    }

    private enum Finish {
        case exited(UInt32)
        case stopped(VCPUStop)
    }

    private func handle(_ exit: VCPUExit) -> Finish? {
        switch exit {
        case .io(let port, let direction, let size, let count, let data):
            return handleIO(port: port, isWrite: direction == .out, size: size, count: count, data: data)
        case .hlt:
            return .stopped(.halted(at: location()))
        case .shutdown:
            return .stopped(.tripleFault(at: location() + sharedWalkHint()))
        case .mmio(let address, let isWrite, _, let data):
            if let views = machine.service.views { return enforce(address, isWrite: isWrite, data: data, views: views) }
            return .stopped(.unmappedAccess(gpa: address, isWrite: isWrite, at: location()))
        case .memoryFault(let flags, let gpa, let size):
            return serveImplicit(gpa: gpa, size: size, toPrivate: flags.contains(.private))
        case .debug(let exception, let pc, let dr6, _):
            switch GuestDebugException.classify(exception: exception, dr6: dr6, pc: pc, sites: sites, opcode: { self.codeByte(at: pc) }) {
            case .site(let instruction):
                return serveTrapped(instruction, at: pc)
            case .guest(let payload, let skip):
                return deliverDebugException(payload: payload, skip: skip,
                                             cause: "\(skip > 0 ? "ICEBP" : "a debug exception") at \(machine.image.symbolize(pc)), the guest's own (DR6 \(hex(dr6)))")
            case .unexpected:
                return .stopped(.unexpectedDebug(at: location()))
            }
        case .rdmsr(let msr):
            switch (msr.index, machine.options.platform) {
            case (GHCBMSRProtocol.msrIndex, .ghcb?):
                msr.data = ghcb.msr
            case (GHCBHost.sevStatusMSR, .ghcb?):
                msr.data = GHCBHost.sevStatusSNPGuest
            default:
                // Not an MSR of ours: refuse it, which injects #GP as hardware would.
                noteUnserved(.msr(vcpu: index, index: msr.index, write: false, value: 0, answered: false))
                msr.error = 1
            }
            return nil
        case .wrmsr(let msr):
            if msr.index == GHCBMSRProtocol.msrIndex, machine.options.platform == .ghcb {
                ghcb.writeMSR(msr.data)
            } else {
                noteUnserved(.msr(vcpu: index, index: msr.index, write: true, value: msr.data, answered: false))
                msr.error = 1
            }
            return nil
        case .hypercall(let call):
            call.ret = KVMHypercallHost.serve(
                nr: call.nr, a0: call.argument(0), a1: call.argument(1), a2: call.argument(2), longMode: call.isLongMode, cpl: 0,
                transport: .native, service: machine.service, vcpu: index, events: &pending)
            return nil
        case .internalError(let suberror, _):
            // KVM's emulator has no INT1: where it runs every instruction (kvm_pvm here) an
            // ICEBP is an emulation failure, not the #DB it is on hardware.
            if suberror == Self.emulationFailure, let rip = icebpAtRIP() {
                return deliverDebugException(payload: 0, skip: 1, cause: "ICEBP at \(machine.image.symbolize(rip))")
            }
            return .stopped(.internalError(suberror: suberror, at: location()))
        case .failEntry(let reason, _):
            return .stopped(.failedEntry(reason: reason))
        case .interrupted:
            if control.timedOut { return .stopped(.timeout(after: control.timeout, at: location())) }
            return nil
        case .systemEvent(let event):
            return .stopped(.hostError("system event \(event.type)"))
        case .unsupported(let reason):
            return .stopped(.unsupportedExit(reason: reason, at: location()))
        }
    }

    /// Serves a request the hardware breakpoint at `pc` caught before it executed, writes the
    /// platform's answer, and skips the instruction.
    private func serveTrapped(_ instruction: RequestInstruction, at pc: UInt64) -> Finish? {
        guard machine.options.platform == instruction.platform else {
            let expected = machine.options.platform.map { "as \($0.rawValue)" } ?? "with no confidential platform"
            return .stopped(.unsupportedRequest("\(instruction) at \(machine.image.symbolize(pc)) from a guest running \(expected) (choose the platform with --platform \(instruction.platform.rawValue))"))
        }
        do {
            // Only the hypercall (mode, CPL) and PVALIDATE (CR3) read the special registers.
            let sregs: SpecialRegisters
            switch instruction {
            case .vmcall, .vmmcall, .pvalidate: sregs = try vcpu.getSpecialRegisters()
            case .vmgexit, .tdcall: sregs = SpecialRegisters()
            }
            var stop: VCPUStop?, fault: TrappedFault?, singleStep = false
            try vcpu.modifyRegisters { regs in
                switch instruction {
                case .vmcall, .vmmcall:
                    let longMode = sregs.efer & BootState.eferLMA != 0 && sregs.cs.l != 0
                    regs.rax = KVMHypercallHost.serve(
                        nr: regs.rax, a0: regs.rbx, a1: regs.rcx, a2: regs.rdx, longMode: longMode, cpl: sregs.cs.dpl,
                        transport: .trap, service: machine.service, vcpu: index, events: &pending)
                case .vmgexit:
                    if case .stop(let reason) = ghcb.vmgexit(memory: machine.memory, service: machine.service,
                                                             policy: machine.options.pageStateChangePolicy, transport: .trap, vcpu: index, events: &pending) {
                        stop = reason
                    }
                case .pvalidate:
                    switch pvalidate(&regs, sregs: sregs, at: pc) {
                    case .completed: break
                    case .faulted(let raised): fault = raised
                    case .stopped(let reason): stop = reason
                    }
                case .tdcall:
                    var registers = TDCallRegisters(regs)
                    stop = tdx.tdcall(&registers, vcpu: index, service: machine.service, transport: .trap, events: &pending)
                    registers.store(into: &regs)
                }
                guard fault == nil else { return }      // a fault is taken at the instruction
                regs.rip &+= instruction.length
                singleStep = regs.rflags & GuestDebugException.trapFlag != 0
            }
            if let stop { return .stopped(stop) }
            if let fault {
                try vcpu.injectException(vector: fault.vector, errorCode: fault.errorCode)
                lastInjected = (UInt64(fault.vector), fault.cause)
                return nil
            }
            // TF was set as the instruction began: its single-step trap follows it, as KVM
            // gives one after every instruction it skips itself (x86.c
            // kvm_skip_emulated_instruction → kvm_vcpu_do_singlestep, payload DR6.BS).
            if singleStep {
                return deliverDebugException(payload: GuestDebugException.singleStep, skip: 0,
                                             cause: "single step over the \(instruction) at \(machine.image.symbolize(pc)), which the runner served")
            }
            return nil
        } catch {
            return .stopped(.hostError("\(error)"))
        }
    }

    /// An exception a served instruction raises instead of completing.
    private struct TrappedFault: Equatable {
        let vector: UInt8
        let errorCode: UInt32?
        let cause: String
    }

    private enum TrappedOutcome {
        case completed
        case faulted(TrappedFault)
        case stopped(VCPUStop)
    }

    /// KVM_INTERNAL_ERROR_EMULATION (Linux uapi kvm.h).
    static let emulationFailure: UInt32 = 1

    /// Delivers a #DB the guest caused (`GuestDebugException`): RIP moved past `skip` bytes,
    /// the guest's DR6 as KVM leaves it when it delivers one with `payload`, then vector 1
    /// through the guest's IDT, as QEMU re-injects one (target/i386/kvm kvm_handle_debug:
    /// DR6 first, then KVM_SET_VCPU_EVENTS).
    private func deliverDebugException(payload: UInt64, skip: UInt64, cause: String) -> Finish? {
        do {
            if skip > 0 { try vcpu.modifyRegisters { $0.rip &+= skip } }
            try vcpu.updateGuestDR6 { GuestDebugException.dr6(delivering: payload, over: $0) }
            try vcpu.injectException(vector: GuestDebugException.vector)
        } catch {
            return .stopped(.hostError("delivering #DB (\(cause)): \(error)"))
        }
        lastInjected = (UInt64(GuestDebugException.vector), cause)
        return nil
    }

    /// The byte of code at the linear address `linear`, through the guest's tables (SNP: the
    /// C-bit dropped from them).
    private func codeByte(at linear: UInt64) -> UInt8? {
        guard let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        return GuestPageWalk.codeByte(at: linear, sregs: sregs, memory: machine.memory,
                                      encryptionMask: machine.options.platform == .ghcb ? GHCBHost.cBit : 0)
    }

    /// The linear RIP when the instruction there is an ICEBP, else nil.
    private func icebpAtRIP() -> UInt64? {
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        let rip = sregs.cs.base &+ regs.rip
        return codeByte(at: rip) == GuestDebugException.icebpOpcode ? rip : nil
    }

    /// An access the guest's views did not let through (KVM_EXIT_MMIO at a protected page):
    /// answered as the platform does. A read exits before it retires: it is cancelled
    /// (completed with immediate_exit, then the registers put back), so it has no effect and
    /// runs again, after an implicit conversion, or meets the platform's fault at its own RIP.
    /// A write exits after KVM's emulator retired it (RIP past it, its bytes in the exit): the
    /// runner lands those bytes itself where the platform lets the retried write through, and
    /// where the platform faults, puts RIP back at the instruction (`FaultingAccess`).
    private func enforce(_ address: UInt64, isWrite: Bool, data: ExitBytes, views: GuestViews) -> Finish? {
        let (privateView, gpa) = views.decode(address)
        var outcome = machine.service.access(gpa: gpa, privateView: privateView, isWrite: isWrite)
        if case .outsideMemory = outcome { return .stopped(.unmappedAccess(gpa: address, isWrite: isWrite, at: location())) }
        let at = location()
        if case .ciphertextRead = outcome {
            // Not cancelled: the read completes (KVM finishes the instruction with these bytes).
            views.ciphertext(at: gpa, into: data, memory: machine.memory)
            pending.append(.served(vcpu: index, interface: .ghcb, request: "C=0 read of private page \(hex(gpa & ~0xFFF)) at \(at)",
                                  answer: "ciphertext (the RMP checks no C=0 read)"))
            return nil
        }
        let written: [UInt8]? = isWrite ? Array(data.bytes) : nil
        do {
            try cancelAccess(restoringRegisters: !isWrite)
        } catch {
            return .stopped(.hostError("cancelling the access at \(hex(address)): \(error)"))
        }
        if control.timedOut { return .stopped(.timeout(after: control.timeout, at: at)) }
        if case .implicitConversion(let page, let target) = outcome {
            let request = ConversionRequest(range: page, direction: target == .private ? .toPrivate : .toShared, pageSize: .size4K,
                                            origin: machine.options.platform == .ghcb ? .ghcbPSC : .tdxMapGPA)
            let result = ConversionLog.convert(request, transport: .trap, service: machine.service, vcpu: index, events: &pending,
                                               as: (machine.options.platform ?? .kvm, "KVM_EXIT_MEMORY_FAULT (\(privateView ? "private" : "shared") \(isWrite ? "write" : "read"))"))
            guard result.succeeded else {
                return .stopped(.memoryFault(gpa: address, size: 0x1000, isPrivate: privateView, at: "\(at) (page states: \(machine.service.describeStates(around: gpa)))"))
            }
            guard isWrite else { return nil }   // the read runs again
            outcome = machine.service.access(gpa: gpa, privateView: privateView, isWrite: true)
        }
        guard case .notAccepted = outcome else {
            // Let through (after the conversion, or because another vCPU changed the page
            // meanwhile): a read runs again; a write lands as the retried write would.
            if let written { land(written, at: views.bitMeansPrivate ? gpa : address) }
            return nil
        }
        return platformFault(address, gpa: gpa, written: written, views: views, at: at)
    }

    /// The platform's answer to an access of a page not validated (SNP) / pending (TDX): the
    /// fault at the instruction, naming the linear address it used, or the TD's end.
    private func platformFault(_ address: UInt64, gpa: UInt64, written: [UInt8]?, views: GuestViews, at: String) -> Finish? {
        var at = at
        let isWrite = written != nil
        let walked = views.bitMeansPrivate ? gpa : address, encryptionMask = views.bitMeansPrivate ? views.viewBit : 0
        var linear: UInt64?
        if let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() {
            var rip: UInt64? = regs.rip
            if let written {
                rip = FaultingAccess.instructionStart(ripAfter: regs.rip, wrote: walked, bytes: written.count, regs: regs, sregs: sregs,
                                                     memory: machine.memory, encryptionMask: encryptionMask)
                if let start = rip, (try? vcpu.modifyRegisters { $0.rip = start }) != nil {
                    at = location()
                } else {
                    at += " (just after the writing instruction, whose start could not be recovered)"
                }
            }
            linear = rip.flatMap { FaultingAccess.linearAddress(instructionAt: $0, accessed: walked, regs: regs, sregs: sregs,
                                                               memory: machine.memory, encryptionMask: encryptionMask) }
                ?? GuestPageWalk.linearAddresses(mapping: walked, cr3: sregs.cr3, memory: machine.memory, encryptionMask: encryptionMask)
                    .flatMap { $0.count == 1 ? $0.first : nil }
        }
        switch machine.options.platform {
        case .ghcb?:
            // A C=1 access to a guest-owned page that is not validated: #VC with the SVM exit
            // code SVM_EXIT_PAGE_NOT_VALIDATED (0x404) as its error code and the faulting GVA
            // in CR2 (AMD APM vol. 2 §15.36.10).
            let vmmCommunicationException: UInt8 = 29, pageNotValidated: UInt32 = 0x404
            do {
                if let linear { try vcpu.modifySpecialRegisters { $0.cr2 = linear } }
                try vcpu.injectException(vector: vmmCommunicationException, errorCode: pageNotValidated)
            } catch {
                return .stopped(.hostError("injecting #VC: \(error)"))
            }
            lastInjected = (UInt64(vmmCommunicationException), "a C=1 \(isWrite ? "write" : "read") of GPA \(hex(gpa)), guest-owned but not validated; page states: \(machine.service.describeStates(around: gpa))")
            pending.append(.served(vcpu: index, interface: .ghcb, request: "\(isWrite ? "write" : "read") of unvalidated page \(hex(gpa)) at \(at)",
                                  answer: "#VC 0x404 (page not validated)"))
            return nil
        case .tdx? where machine.options.tdxAttributes & RunOptions.tdxSeptVEDisable == 0:
            return injectVirtualizationException(gpa: address, gla: linear, isWrite: isWrite, at: at)
        default:
            return .stopped(.platformStopped("guest access before accepting \(hex(gpa)) (a \(isWrite ? "write" : "read") through the private view of a pending page) at \(at): with SEPT_VE_DISABLE set KVM reports this and marks the TD dead; page states: \(machine.service.describeStates(around: gpa))"))
        }
    }

    /// Why an SNP guest may have shut down here but not on hardware: a page-table walk the
    /// hardware makes private whatever the entries' C-bit (AMD APM vol. 2 §15.34.5) meets,
    /// through a C=0 CR3 or table pointer, a private page this runner's shared view keeps
    /// closed. Names the first such table on RIP's walk; empty otherwise.
    private func sharedWalkHint() -> String {
        guard machine.options.platform == .ghcb, let views = machine.service.views, views.bitMeansPrivate,
              let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters(), sregs.cr0 & BootState.cr0Paging != 0 else { return "" }
        var pointer = sregs.cr3, name = "CR3"
        for (level, shift) in [(4, UInt64(39)), (3, 30), (2, 21), (1, 12)] {
            let table = pointer & GuestPageWalk.addressBits & ~views.viewBit
            if pointer & views.viewBit == 0, machine.service.state(at: table) == .private {
                return " (\(name) points at page-table page \(hex(table)) without the C-bit, and it is private: SNP hardware walks tables as private whatever their C-bit, this runner only through C=1 — give table pointers and CR3 the C-bit)"
            }
            guard let entry = machine.memory.bytes(at: table + ((regs.rip >> shift) & 0x1FF) * 8, count: 8)?.loadUnaligned(as: UInt64.self),
                  entry & GuestPageWalk.present != 0, level > 1, entry & GuestPageWalk.largePage == 0 else { return "" }
            pointer = entry
            name = "the level-\(level) entry for RIP"
        }
        return ""
    }

    /// Lands a retired write's bytes in guest memory through the host's own mapping of the
    /// view it went to (one guest_memfd for both SNP views; TDX's shared alias its own).
    private func land(_ bytes: [UInt8], at hostGPA: UInt64) {
        guard let target = machine.memory.bytes(at: hostGPA, count: bytes.count) else { return }
        target.copyBytes(from: bytes)
    }

    /// The TDX module's answer to a private access to a PENDING page when SEPT_VE_DISABLE is
    /// clear: #VE (vector 20, no error code) with VE_INFO filled for TDG.VP.VEINFO.GET — exit
    /// reason 48 (EPT violation), the qualification's access bits, the GPA — or #DF when
    /// VE_INFO is still valid from a #VE the guest has not read (td_other_exits.c
    /// tdx_inject_ve). With the GLA (`FaultingAccess`: this host's MMIO exit gives none), the
    /// qualification's bits 7 (GLA valid) and 8 (an access to the translation, not a page walk:
    /// Intel SDM vol. 3 table 28-7; Linux asm/vmx.h EPT_VIOLATION_GVA_IS_VALID and
    /// EPT_VIOLATION_GVA_TRANSLATED) are set; without, GLA 0 with bit 7 clear.
    private func injectVirtualizationException(gpa: UInt64, gla: UInt64?, isWrite: Bool, at: String) -> Finish? {
        let virtualizationException: UInt8 = 20, doubleFault: UInt8 = 8
        let eptViolation: UInt32 = 48
        let glaValid: UInt64 = 1 << 7, translatedAccess: UInt64 = 1 << 8
        let qualification = (isWrite ? 0b10 : 0b01) | (gla == nil ? 0 : glaValid | translatedAccess)
        let answer = tdx.pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (EPT violation, GPA \(hex(gpa)))"
        do {
            if tdx.pendingVEInfo != nil {
                try vcpu.injectException(vector: doubleFault, errorCode: 0)
            } else {
                tdx.pendingVEInfo = TDXHost.VEInfo(exitReason: eptViolation, exitQualification: qualification, gla: gla ?? 0, gpa: gpa)
                try vcpu.injectException(vector: virtualizationException)
                lastInjected = (UInt64(virtualizationException), "EPT violation: a private \(isWrite ? "write" : "read") of GPA \(hex(gpa)), pending; page states: \(machine.service.describeStates(around: gpa))")
            }
            pending.append(.served(vcpu: index, interface: .tdx, request: "\(isWrite ? "write" : "read") of pending page \(hex(gpa)) at \(at)",
                                  answer: answer))
            return nil
        } catch {
            return .stopped(.hostError("injecting #VE: \(error)"))
        }
    }

    /// Completes the pending MMIO access with immediate_exit set, so KVM retires the
    /// instruction and returns before entering the guest; for a read, then restores the
    /// registers it had before: the access never happened (memory was never touched: the host
    /// completed nothing into it). A write was retired before the exit already.
    private func cancelAccess(restoringRegisters: Bool) throws(KVMError) {
        let before = try vcpu.getRegisters()
        vcpu.kicker.kick()          // not in KVM_RUN: only sets immediate_exit
        _ = try vcpu.run()
        if restoringRegisters { try vcpu.setRegisters(before) }
    }

    /// PVALIDATE as SNP hardware executes it against the RMP: the operands as the instruction
    /// reads them (`PValidateOperands`: rAX the GVA, walked through the guest's page tables;
    /// ECX the page size; EDX validate), #GP(0) for a non-canonical address, RAX and CF as
    /// the instruction sets them. A hypervisor-owned page takes the RMP #NPF, which KVM makes
    /// an implicit conversion to private (the page is then guest-owned, not validated), and
    /// the instruction runs again.
    private func pvalidate(_ regs: inout Registers, sregs: SpecialRegisters, at pc: UInt64) -> TrappedOutcome {
        let carryFlag: UInt64 = 1 << 0
        let at = machine.image.symbolize(pc)
        let longMode64 = sregs.efer & BootState.eferLMA != 0 && sregs.cs.l != 0
        let operands = PValidateOperands.decode(rax: regs.rax, rcx: regs.rcx, rdx: regs.rdx, longMode64: longMode64,
                                                fiveLevelPaging: sregs.cr4 & PValidateOperands.cr4LA57 != 0)
        let gva: UInt64, pageSize: UInt32, validate: UInt32
        switch operands {
        case .generalProtection(let why):
            pending.append(.served(vcpu: index, interface: .ghcb, request: "PVALIDATE at \(at)", answer: "#GP(0): \(why)"))
            return .faulted(TrappedFault(vector: PValidateOperands.generalProtectionVector, errorCode: 0, cause: "PVALIDATE: \(why)"))
        case .operands(let address, let size, let operation):
            (gva, pageSize, validate) = (address, size, operation)
        }
        let operation = validate == 1 ? "validate" : validate == 0 ? "rescind" : "edx \(hex(UInt64(validate)))"
        guard let gpa = GuestPageWalk.translate(gva, cr3: sregs.cr3, memory: machine.memory, encryptionMask: GHCBHost.cBit) else {
            return .stopped(.platformStopped("PVALIDATE of GVA \(hex(gva)), which the guest's page tables do not map (#PF on hardware), at \(at)"))
        }
        for _ in 0..<2 {
            let result = machine.service.pvalidate(gpa: gpa, pageSize: pageSize, validate: validate)
            switch result {
            case .hypervisorOwned(let page):
                let request = ConversionRequest(range: page, direction: .toPrivate, pageSize: .size4K, origin: .ghcbPSC)
                let outcome = ConversionLog.convert(request, transport: .trap, service: machine.service, vcpu: index, events: &pending,
                                                    as: (.ghcb, "KVM_EXIT_MEMORY_FAULT (PVALIDATE of a hypervisor-owned page)"))
                guard outcome.succeeded else { return .stopped(.memoryFault(gpa: page.start, size: 0x1000, isPrivate: true, at: at)) }
                continue
            case .outsideMemory:
                return .stopped(.platformStopped("PVALIDATE of GPA \(hex(gpa)), which is not guest RAM (an RMP #NPF no memslot resolves), at \(at)"))
            default:
                regs.rax = result.rax
                regs.rflags = result.carry ? regs.rflags | carryFlag : regs.rflags & ~carryFlag
                let size: UInt64 = pageSize == 1 ? 2 << 20 : 0x1000
                pending.append(.validation(vcpu: index, ValidationRecord(
                    interface: .ghcb, instruction: "PVALIDATE", operation: operation,
                    range: GPARange(start: gpa & ~(size - 1), exactByteCount: size), pageSize: size,
                    result: Self.describe(result), changed: result == .success, transport: .trap)))
                return .completed
            }
        }
        return .stopped(.hostError("PVALIDATE at \(hex(gpa)) did not settle after an implicit conversion"))
    }

    private static func describe(_ result: PageStateMap.PValidateResult) -> String {
        switch result {
        case .success: "success (RAX 0)"
        case .noUpdate: "no update (RAX 0, CF 1)"
        case .failInput: "FAIL_INPUT (RAX 1)"
        case .sizeMismatch: "FAIL_SIZEMISMATCH (RAX 6)"
        case .hypervisorOwned, .outsideMemory: "-"
        }
    }

    /// KVM_EXIT_MEMORY_FAULT: where KVM enforces private memory, an access that does not match
    /// a page's state is an implicit conversion request (the PRIVATE flag gives the access's
    /// kind): convert the page(s) and let the access retry. Elsewhere it is a diagnosis.
    private func serveImplicit(gpa: UInt64, size: UInt64, toPrivate: Bool) -> Finish? {
        let pageMask: UInt64 = 0xFFF
        let start = gpa & ~pageMask
        let (end, overflow) = gpa.addingReportingOverflow(max(size, 1) + pageMask)
        guard machine.service.enforcesPrivateMemory, !overflow,
              let range = try? GPARange(start: start, byteCount: (end & ~pageMask) - start) else {
            return .stopped(.memoryFault(gpa: gpa, size: size, isPrivate: toPrivate, at: location()))
        }
        let request = ConversionRequest(range: range, direction: toPrivate ? .toPrivate : .toShared, pageSize: .size4K, origin: .kvmHypercall)
        let outcome = ConversionLog.convert(request, transport: .native, service: machine.service, vcpu: index, events: &pending,
                                            as: (machine.options.platform ?? .kvm, "KVM_EXIT_MEMORY_FAULT"))
        return outcome.succeeded ? nil : .stopped(.memoryFault(gpa: gpa, size: size, isPrivate: toPrivate, at: location()))
    }

    private func handleIO(port: UInt16, isWrite: Bool, size: Int, count: Int, data: ExitBytes) -> Finish? {
        switch (port, isWrite) {
        case (ReportPort.debugConsole, true):
            for offset in 0..<data.count { appendLog(data[offset]) }
        case (ReportPort.record, false):
            for item in 0..<count { data.store(UInt64(ReportPort.presence), width: size, item: item) }
        case (ReportPort.record, true):
            for item in 0..<count {
                if let finish = readRecord(gpa: data.load(width: size, item: item)) { return finish }
            }
        case (ReportPort.exit, true):
            return .exited(UInt32(truncatingIfNeeded: data.load(width: size)))
        case (ReportPort.postCode, true):
            break
        case (_, false):
            for item in 0..<count { data.store(ReportPort.floatingBus, width: size, item: item) }
            noteUnserved(.ignoredIO(vcpu: index, port: port, write: false))
        case (_, true):
            noteUnserved(.ignoredIO(vcpu: index, port: port, write: true))
        }
        return nil
    }

    /// Reads and records one report record; an EXCEPTION record or too many malformed ones
    /// end the vCPU's run.
    private func readRecord(gpa: UInt64) -> Finish? {
        guard let bytes = machine.memory.prefix(at: gpa, upTo: ReportRecord.maximumSize) else {
            return malformedRecord(gpa: gpa, ReportRecordError.outsideMemory.description)
        }
        switch ReportRecord.decode(UnsafeRawBufferPointer(bytes)) {
        case .success(.log(let text)):
            flushLine()
            keepLog(text)
        case .success(.exception(let vector, let errorCode, let rip, let cr2)):
            var at = machine.image.symbolize(rip)
            if let injected = lastInjected, injected.vector == vector { at += " (\(injected.cause))" }
            return .stopped(.exception(vector: vector, errorCode: errorCode, at: at, cr2: cr2))
        case .success(.checksum(let name, let checksumGPA, let length, let crc)):
            guard let host = machine.population.plannedChecksum(gpa: checksumGPA, length: length) else {
                return malformedRecord(gpa: gpa, "CHECKSUM '\(name)' names \(Self.describe(gpa: checksumGPA, length: length)), "
                    + "which is not inside the ranges the plan populated")
            }
            let comparison = RunResult.ChecksumComparison(name: name, gpa: checksumGPA, length: length, guest: crc, host: host)
            if keep(.record(vcpu: index, .checksum(name: name, gpa: checksumGPA, length: length, crc: crc))) {
                checksums.append(comparison)
            } else if !comparison.matches {
                failuresNotKept += 1
            }
        case .success(let record):
            if !keep(.record(vcpu: index, record)), case .check(_, _, _, false) = record { failuresNotKept += 1 }
        case .failure(let error):
            return malformedRecord(gpa: gpa, error.description)
        }
        return nil
    }

    private func noteUnserved(_ event: RunEvent) {
        unserved += 1
        if unserved <= Self.unservedLogged { keep(event) }
    }

    /// Keeps `event` if the run's budget allows; true when kept.
    @discardableResult
    private func keep(_ event: RunEvent) -> Bool {
        guard control.budget.admit(event) else { return false }
        events.append(event)
        return true
    }

    private func keepPending() {
        for event in pending { keep(event) }
        pending.removeAll(keepingCapacity: true)
    }

    /// `[gpa, gpa + length)` unwrapped, for a record that names a range past 2^64.
    static func describe(gpa: UInt64, length: UInt64) -> String {
        let (end, overflow) = gpa.addingReportingOverflow(length)
        return overflow ? "[\(hex(gpa)), 2^64 + \(hex(end)))" : "[\(hex(gpa)), \(hex(end)))"
    }

    /// Unserved port and MSR accesses beyond those logged.
    var unservedNotLogged: Int { max(0, unserved - Self.unservedLogged) }

    private func malformedRecord(gpa: UInt64, _ reason: String) -> Finish? {
        malformed += 1
        keep(.malformedRecord(vcpu: index, gpa: gpa, reason: reason))
        return malformed >= machine.options.malformedRecordLimit ? .stopped(.reportFlood(malformed: malformed)) : nil
    }

    private func appendLog(_ byte: UInt8) {
        if byte == UInt8(ascii: "\n") { return flushLine() }
        line.append(byte)
        if line.count >= 4096 { flushLine() }
    }

    private func flushLine() {
        guard !line.isEmpty else { return }
        keepLog(String(decoding: line, as: UTF8.self))
        line.removeAll(keepingCapacity: true)
    }

    private func keepLog(_ text: String) {
        guard logBytes + text.utf8.count <= machine.options.logLimit else {
            droppedLogBytes += text.utf8.count
            return
        }
        let event = RunEvent.log(vcpu: index, line: text)
        guard keep(event) else {
            droppedLogBytes += text.utf8.count
            return
        }
        logBytes += text.utf8.count
        control.stream(event)
    }

    var droppedLog: Int { droppedLogBytes }

    private func stop(_ reason: VCPUStop) {
        flushLine()
        events.append(.stopped(vcpu: index, reason))
    }

    /// Where the vCPU is, symbolized against the image (linear address = CS base + RIP).
    func location() -> String {
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return "an unknown RIP" }
        return machine.image.symbolize(sregs.cs.base &+ regs.rip)
    }
}
