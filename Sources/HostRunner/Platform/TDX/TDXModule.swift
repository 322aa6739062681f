import GuestABI
import GuestPhysical
import Payload

/// The TDX module's side of the TDCALLs it serves itself for one vCPU (TDG.VP.INFO,
/// TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT), and the #VE it delivers for a private access to a
/// pending page when SEPT_VE_DISABLE is clear, with the VE_INFO it leaves for
/// TDG.VP.VEINFO.GET. `TDXHost` decodes the TDCALL and hands these leaves here.
struct TDXModule {
    let width: TDXGuestPhysicalAddressWidth
    let vcpuCount: Int
    /// TD ATTRIBUTES (RunOptions.tdxAttributes).
    let attributes: UInt64
    /// The #VE information the last injected #VE left for TDG.VP.VEINFO.GET (VE_INFO.VALID).
    var pendingVEInfo: VEInfo?

    /// What the TDX module records for a #VE (tdx_inject_ve; edk2 TDCALL_VEINFO_RETURN_DATA).
    struct VEInfo: Equatable {
        var exitReason: UInt32
        var exitQualification: UInt64
        var gla: UInt64
        var gpa: UInt64
        /// The instruction's length, which TDG.VP.VEINFO.GET returns in R10[31:0] (0 where
        /// the exit gives none: an EPT violation).
        var instructionLength: UInt32 = 0
    }

    /// #VE and #DF vectors (Intel SDM vol. 3 table 6-1), and the exit reason a #VE for an EPT
    /// violation reports (48: Intel SDM vol. 3 appendix C).
    static let virtualizationException: UInt8 = 20
    static let doubleFault: UInt8 = 8
    static let eptViolation: UInt32 = 48
    /// The exit reason of an I/O instruction (Intel SDM vol. 3 appendix C; Linux uapi asm/vmx.h
    /// EXIT_REASON_IO_INSTRUCTION).
    static let ioInstruction: UInt32 = 30
    /// The exit reasons of RDMSR and WRMSR (Intel SDM vol. 3 appendix C; Linux uapi asm/vmx.h
    /// EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE).
    static let msrRead: UInt32 = 31
    static let msrWrite: UInt32 = 32
    /// #GP (Intel SDM vol. 3 table 6-1).
    static let generalProtection: UInt8 = 13
    /// The exit reason of CPUID (Intel SDM vol. 3 appendix C; asm/vmx.h EXIT_REASON_CPUID).
    static let cpuidInstruction: UInt32 = 10
    /// The exit reason of HLT (asm/vmx.h EXIT_REASON_HLT), and its length (F4).
    static let hltInstruction: UInt32 = 12
    static let hltLength: UInt32 = 1
    /// The leaves the TDX module never answers itself: the range reserved for the hypervisor
    /// (tdx-module CPUID_RESERVED_START..CPUID_RESERVED_END). It has no entry in the module's
    /// CPUID lookup table and is exempt from the clamp of out-of-range leaves, so
    /// td_cpuid_exit (td_vmexit.c) always injects a #VE for it; Linux's handle_cpuid
    /// (arch/x86/coco/tdx/tdx.c) forwards exactly this range to the VMM.
    static let hypervisorCPUIDLeaves: ClosedRange<UInt32> = 0x4000_0000...0x4FFF_FFFF

    init(width: TDXGuestPhysicalAddressWidth, vcpuCount: Int, attributes: UInt64) {
        self.width = width
        self.vcpuCount = vcpuCount
        self.attributes = attributes
    }

    /// TDG.VP.INFO: GPAW, ATTRIBUTES, the vCPU counts and this vCPU's index.
    func vpInfo(_ registers: inout TDCallRegisters, vcpu: Int, events: inout [RunEvent]) {
        TDXVPInfo(
            width: width, attributes: attributes, vcpuCount: UInt32(vcpuCount), maxVCPUCount: UInt32(vcpuCount),
            vcpuIndex: UInt32(vcpu)
        ).apply(to: &registers)
        events.append(.served(vcpu: vcpu, interface: .tdx, request: .tdVPInfo, answer: "GPAW \(width.rawValue), attributes \(hex(attributes))"))
    }

    /// TDG.VP.VEINFO.GET (tdg_vp_veinfo_get.c): RCX, RDX, R8, R9, R10 cleared first; VALID
    /// cleared after.
    mutating func veInfoGet(_ registers: inout TDCallRegisters, vcpu: Int, events: inout [RunEvent]) {
        registers.rcx = 0; registers.rdx = 0; registers.r8 = 0; registers.r9 = 0; registers.r10 = 0
        if let info = pendingVEInfo {
            registers.rax = TDCall.success
            registers.rcx = UInt64(info.exitReason)
            registers.rdx = info.exitQualification
            registers.r8 = info.gla
            registers.r9 = info.gpa
            registers.r10 = UInt64(info.instructionLength)
            pendingVEInfo = nil
        } else {
            registers.rax = TDCall.noValidVEInfo
        }
        events.append(.served(vcpu: vcpu, interface: .tdx, request: .veInfoGet, answer: "rax \(hex(registers.rax))"))
    }

    /// The TDX module's answer to a private access to a PENDING page when SEPT_VE_DISABLE is
    /// clear: #VE (vector 20, no error code) with VE_INFO filled for TDG.VP.VEINFO.GET — exit
    /// reason 48 (EPT violation), the qualification's access bits, the GPA — or #DF when
    /// VE_INFO is still valid from a #VE the guest has not read (td_other_exits.c
    /// tdx_inject_ve). With the GLA (`FaultingAccess`: this host's MMIO exit gives none), the
    /// qualification's bits 7 (GLA valid) and 8 (an access to the translation, not a page walk:
    /// Intel SDM vol. 3 table 28-7; Linux asm/vmx.h EPT_VIOLATION_GVA_IS_VALID and
    /// EPT_VIOLATION_GVA_TRANSLATED) are set; without, GLA 0 with bit 7 clear.
    mutating func virtualizationException(for access: UnacceptedAccess, vcpu: Int) -> AccessFault {
        let kind = access.isWrite ? "write" : "read"
        let qualification = Self.eptViolationQualification(isWrite: access.isWrite, linear: access.linear)
        let gpa = access.address.raw
        let served = RunEvent.served(
            vcpu: vcpu, interface: .tdx, request: .pendingAccess(access.isWrite ? .write : .read, gpa: gpa, at: access.at),
            answer: (pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (EPT violation, GPA \(hex(gpa)))")
                + (access.section.map { "; the page is \($0)" } ?? ""))
        guard pendingVEInfo == nil else {
            return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
        }
        pendingVEInfo = VEInfo(exitReason: Self.eptViolation, exitQualification: qualification, gla: access.linear ?? 0, gpa: gpa)
        return .inject(
            vector: Self.virtualizationException, errorCode: nil, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(Self.virtualizationException),
                cause: "EPT violation: a private \(kind) of GPA \(hex(gpa)), pending; page states: \(access.states)"),
            served: served)
    }

    /// The exit qualification of an EPT violation the TDX module reports in VE_INFO (Intel SDM
    /// vol. 3 table 28-7): bit 0 a data read, bit 1 a data write; the entry's permissions
    /// (bits 5:3) are 0, the GPA having no mapping the access may use; with the GLA, bits 7
    /// (GLA valid) and 8 (an access to the translation, not a page walk; Linux asm/vmx.h
    /// EPT_VIOLATION_GVA_IS_VALID, EPT_VIOLATION_GVA_TRANSLATED).
    static func eptViolationQualification(isWrite: Bool, linear: UInt64?) -> UInt64 {
        let glaValid: UInt64 = 1 << 7, translatedAccess: UInt64 = 1 << 8
        return (isWrite ? 0b10 : 0b01) | (linear == nil ? 0 : glaValid | translatedAccess)
    }

    /// The TDX module's answer to a raw access to a shared GPA with no RAM behind it. KVM maps
    /// such a GPA in the shared EPT with an MMIO SPTE of value 0 — no access allowed, the
    /// suppress-#VE bit clear (Linux arch/x86/kvm/vmx/tdx.c tdx_vm_init,
    /// kvm_mmu_set_mmio_spte_value; mmu/mmu.c kvm_handle_noslot_fault) — so the CPU turns the EPT violation into #VE
    /// (vector 20) in the TD, the instruction not executed, with VE_INFO exit reason 48, the
    /// qualification's access bits, the GLA and the GPA, shared bit included, for
    /// TDG.VP.VEINFO.GET (Linux arch/x86/coco/tdx/tdx.c virt_exception_kernel → handle_mmio;
    /// edk2 OvmfPkg CcExitVeHandler MmioExit); #DF while VE_INFO is still valid. A private
    /// GPA (shared bit clear) is no #VE but the guest's end (`InterceptedMMIO.privateEnd`).
    mutating func mmioException(for access: InterceptedMMIO, vcpu: Int) -> AccessFault {
        guard width.isShared(access.address.raw) else { return access.privateEnd("private", gpa: access.address.raw) }
        let gpa = access.address.raw
        let served = access.served(
            vcpu: vcpu, interface: .tdx, answer: pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (EPT violation, GPA \(hex(gpa)))")
        guard pendingVEInfo == nil else {
            return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
        }
        pendingVEInfo = VEInfo(
            exitReason: Self.eptViolation, exitQualification: Self.eptViolationQualification(isWrite: access.isWrite, linear: access.linear),
            gla: access.linear ?? 0, gpa: gpa)
        return .inject(
            vector: Self.virtualizationException, errorCode: nil, cr2: nil,
            remembered: InjectedException(vector: UInt64(Self.virtualizationException), cause: "EPT violation (MMIO): a shared \(access.words), not executed"),
            served: served)
    }

    /// The exit qualification of an I/O instruction (Intel SDM vol. 3 table 28-5 "Exit
    /// Qualification for I/O Instructions"): size - 1 in bits 2:0, direction in bit 3 (1 = IN),
    /// string in bit 4, REP in bit 5, operand encoding in bit 6 (1 = immediate), the port in
    /// bits 31:16 (Linux arch/x86/coco/tdx/tdx.c VE_GET_IO_SIZE, VE_IS_IO_IN, VE_IS_IO_STRING,
    /// VE_GET_PORT_NUM).
    static func ioQualification(_ access: InterceptedPort) -> UInt64 {
        let instruction = access.instruction
        var qualification = UInt64(instruction.size - 1)
        if instruction.isIn { qualification |= 1 << 3 }
        if instruction.isString { qualification |= 1 << 4 }
        if instruction.isRep { qualification |= 1 << 5 }
        if instruction.immediatePort != nil { qualification |= 1 << 6 }
        return qualification | UInt64(access.port) << 16
    }

    /// The TDX module's answer to a raw port instruction: #VE (vector 20) with VE_INFO exit
    /// reason 30, the I/O qualification and the instruction's length for TDG.VP.VEINFO.GET
    /// (Linux tdx.c handle_io uses them), not executed; #DF when VE_INFO is still valid.
    mutating func ioException(for access: InterceptedPort, vcpu: Int) -> AccessFault {
        let served = access.served(
            vcpu: vcpu, interface: .tdx, answer: pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (exit reason 30, I/O instruction)")
        guard pendingVEInfo == nil else {
            return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
        }
        pendingVEInfo = VEInfo(
            exitReason: Self.ioInstruction, exitQualification: Self.ioQualification(access), gla: 0, gpa: 0,
            instructionLength: UInt32(access.instruction.length))
        return .inject(
            vector: Self.virtualizationException, errorCode: nil, cr2: nil,
            remembered: InjectedException(vector: UInt64(Self.virtualizationException), cause: "I/O instruction: \(access.words), not executed"),
            served: served)
    }

    /// The TDX module's answer to a raw RDMSR/WRMSR it does not let run
    /// (`TDXMSRVirtualization`): #GP(0), or #VE with VE_INFO exit reason 31 (RDMSR) / 32
    /// (WRMSR), qualification 0 (an MSR exit has none, Intel SDM vol. 3 §28.2.1), no GLA or GPA,
    /// and the instruction's length, 2, which Linux arch/x86/coco/tdx/tdx.c ve_instr_len
    /// trusts for these exits; #DF when VE_INFO is still valid (td_msr_access.c hands the #VE
    /// to tdx_inject_ve). nil: the module lets the access run.
    mutating func msrException(for access: InterceptedMSR, vcpu: Int) -> AccessFault? {
        switch TDXMSRVirtualization.action(access.index, isWrite: access.isWrite) {
        case .native, .module:
            return nil
        case .generalProtection:
            return .inject(
                vector: Self.generalProtection, errorCode: 0, cr2: nil,
                remembered: InjectedException(vector: UInt64(Self.generalProtection), cause: "TDX module: \(access.words), #GP(0)"),
                served: access.served(vcpu: vcpu, interface: .tdx, answer: "#GP(0) (the TDX module's MSR table)"))
        case .virtualizationException:
            let reason = access.isWrite ? Self.msrWrite : Self.msrRead
            let served = access.served(
                vcpu: vcpu, interface: .tdx,
                answer: pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (exit reason \(reason), \(access.isWrite ? "WRMSR" : "RDMSR"))")
            guard pendingVEInfo == nil else {
                return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
            }
            pendingVEInfo = VEInfo(
                exitReason: reason, exitQualification: 0, gla: 0, gpa: 0, instructionLength: UInt32(InterceptedMSR.instructionLength))
            return .inject(
                vector: Self.virtualizationException, errorCode: nil, cr2: nil,
                remembered: InjectedException(vector: UInt64(Self.virtualizationException), cause: "MSR exit: \(access.words), not executed"),
                served: served)
        }
    }

    /// Whether the TDX module answers a raw CPUID of `leaf` with a #VE instead of its own
    /// virtualized value (td_vmexit.c td_cpuid_exit). The module #VEs for a leaf/subleaf that
    /// is not in its lookup table or is marked faulting there, and when the TD asked for every
    /// CPUID to #VE (TDCS cpuid_supervisor_ve, off at launch). The table is the module
    /// version's (auto_gen cpuid_configurations); the one part of it every version shares is
    /// the hypervisor range, which this model takes as the rule: a leaf there #VEs, every other
    /// leaf the module answers from the TD's CPUID configuration, as KVM_SET_CPUID2 answers it
    /// here. (A leaf above the maximum of its range is clamped to the last base leaf first,
    /// so it is answered too.)
    static func raisesVE(cpuidLeaf leaf: UInt32) -> Bool { hypervisorCPUIDLeaves.contains(leaf) }

    /// The TDX module's answer to a raw CPUID: for a leaf it does not answer itself
    /// (`raisesVE`), #VE (vector 20) with VE_INFO exit reason 10, qualification, GLA and GPA
    /// 0 (td_cpuid_exit → tdx_inject_ve) and the instruction's length (what Linux's
    /// handle_cpuid advances RIP by, ve_instr_len); not executed; #DF when VE_INFO is still
    /// valid. nil: the module answers it, so the instruction runs.
    mutating func cpuidException(for access: InterceptedCPUID, vcpu: Int) -> AccessFault? {
        guard Self.raisesVE(cpuidLeaf: access.leaf) else { return nil }
        let served = access.served(
            vcpu: vcpu, interface: .tdx, answer: pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (exit reason 10, CPUID)")
        guard pendingVEInfo == nil else {
            return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
        }
        pendingVEInfo = VEInfo(
            exitReason: Self.cpuidInstruction, exitQualification: 0, gla: 0, gpa: 0, instructionLength: UInt32(access.length))
        return .inject(
            vector: Self.virtualizationException, errorCode: nil, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(Self.virtualizationException),
                cause: "CPUID leaf \(hex(access.leaf)) (the hypervisor range, which the TDX module does not answer), not executed"),
            served: served)
    }

    /// The TDX module's answer to a raw HLT: a TD cannot halt itself, the module injects #VE
    /// with exit reason 12 (Linux tdx.c virt_exception_kernel → handle_halt, which asks the VMM
    /// with TDG.VP.VMCALL<Instruction.HLT>) and the instruction's length; not executed; #DF
    /// when VE_INFO is still valid.
    mutating func hltException(at: String, vcpu: Int) -> AccessFault {
        let served = RunEvent.served(
            vcpu: vcpu, interface: .tdx, request: .hltIntercept(at: at),
            answer: pendingVEInfo != nil ? "#DF (VE_INFO still valid)" : "#VE (exit reason 12, HLT)")
        guard pendingVEInfo == nil else {
            return .inject(vector: Self.doubleFault, errorCode: 0, cr2: nil, remembered: nil, served: served)
        }
        pendingVEInfo = VEInfo(exitReason: Self.hltInstruction, exitQualification: 0, gla: 0, gpa: 0, instructionLength: Self.hltLength)
        return .inject(
            vector: Self.virtualizationException, errorCode: nil, cr2: nil,
            remembered: InjectedException(vector: UInt64(Self.virtualizationException), cause: "HLT, which a TD cannot execute, not executed"),
            served: served)
    }

    /// TDG.MEM.PAGE.ACCEPT. A page the Secure EPT does not hold (shared in KVM's attributes)
    /// takes the EPT-violation path: KVM_EXIT_MEMORY_FAULT, the VMM converts the page to
    /// private, KVM AUGs it, and the TDCALL runs again, now finding it pending.
    func accept(
        _ rcx: UInt64, registers: inout TDCallRegisters, vcpu: Int, service: ConversionService,
        transport: Transport, events: inout [RunEvent]
    ) -> VCPUStop? {
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
                let outcome = ConversionLog.convert(
                    request, transport: transport, service: service, vcpu: vcpu, events: &events,
                    as: (.tdx, .memoryFault(.acceptOfSharedPage)))
                guard outcome.succeeded else { return .memoryFault(gpa: page.start, size: 0x1000, isPrivate: true, at: "TDG.MEM.PAGE.ACCEPT") }
                continue
            case .outsideMemory:
                return .platformStopped(
                    "TDG.MEM.PAGE.ACCEPT of \(range), which is not guest RAM: the EPT violation has no memslot to fault in, so KVM stops the TD")
            default:
                guard let rax = result.rax else { return .hostError("TDG.MEM.PAGE.ACCEPT \(hex(rcx)) has no answer") }
                registers.rax = rax
                events.append(
                    .validation(
                        vcpu: vcpu,
                        ValidationRecord(
                            interface: .tdx, operation: .accept, range: range,
                            pageSize: size, result: .accept(result), transport: transport)))
                return nil
            }
        }
        return .hostError("TDG.MEM.PAGE.ACCEPT \(hex(rcx)) did not settle after an implicit conversion")
    }

}
