import GuestABI
import GuestPhysical
import KVM
import Payload

/// Intel TDX as the runner models it: GPAW and its shared bit, the TDX CPUID identity, RAM's
/// private side at GPA and its shared side in a backing of its own at GPA | shared bit, and
/// the TD HOB launch page. Its per-vCPU half (`TDXVCPU`) serves TDCALL (through `TDXHost`,
/// which hands the module's leaves to `TDXModule`) and answers an access to a pending page.
struct TDXPlatform: GuestPlatform {
    let width: TDXGuestPhysicalAddressWidth
    /// TD ATTRIBUTES (`RunOptions.tdxAttributes`).
    let attributes: UInt64

    var identity: ConversionPlatform? { .tdx }
    var physicalAddressBits: UInt32? { UInt32(width.rawValue) }
    /// Shared pages live in a backing of their own at GPA | shared bit (`layOutRAM`).
    var sharedMemoryAlias: UInt64? { width.sharedBit }

    /// CPUID leaf 0x21: "IntelTDX    " in EBX, EDX, ECX order (Linux asm/tdx.h TDX_CPUID_LEAF_ID, TDX_IDENT).
    static let identityLeaf: UInt32 = 0x21

    /// Whether the TD was built with SEPT_VE_DISABLE (`RunOptions.tdxSeptVEDisable`).
    var septVEDisabled: Bool { attributes & RunOptions.tdxSeptVEDisable != 0 }

    func identify(_ entries: [CPUIDEntry]) -> [CPUIDEntry] {
        var entries = entries
        CPUIDTable.hideSEV(&entries)
        CPUIDTable.raiseMaximum(&entries, leaf: 0, to: Self.identityLeaf)
        // TDX exists only on Intel processors, and a TD reads the native vendor through the
        // TDX module (leaf 0 is passed through); TDVF's reset vector requires "GenuineIntel"
        // before it looks at leaf 0x21 (OvmfPkg ResetVector Ia32/IntelTdx.asm IsTdx).
        if let index = entries.firstIndex(where: { $0.function == 0 && $0.index == 0 }) {
            entries[index].ebx = CPUIDTable.fourCC("Genu")
            entries[index].edx = CPUIDTable.fourCC("ineI")
            entries[index].ecx = CPUIDTable.fourCC("ntel")
        }
        CPUIDTable.set(
            &entries, leaf: Self.identityLeaf, eax: 0, ebx: CPUIDTable.fourCC("Inte"), ecx: CPUIDTable.fourCC("    "),
            edx: CPUIDTable.fourCC("lTDX"))
        return entries
    }

    /// As a TDX VMM does: shared pages live at GPA | shared bit, in a backing of their own,
    /// while RAM's file holds the private side at GPA. Where KVM enforces nothing the runner
    /// does, through the guest's views, while the host keeps mappings of its own that no
    /// protection touches.
    func layOutRAM(_ context: LayoutContext) throws -> MachineMemory {
        let size = context.ram.size, sharedBit = width.sharedBit
        let ram = try context.ramBacking.slot(vm: context.vm, slot: Machine.ramSlot, range: context.ram, name: "ram")
        let shared = try MemoryMapping.pair(size: Int(size), name: "enlighten-shared")
        try context.vm.setUserMemoryRegion(
            slot: Machine.sharedAliasSlot, guestPhysicalAddress: sharedBit, size: size,
            userspaceAddress: shared.guest.userspaceAddress)
        var memory = MachineMemory(
            regions: [], keepAlive: [ram, shared.guest, shared.host],
            backing: .split(private: ram.file, shared: shared.host), views: nil)
        if context.enforcing {
            let hostRAM = try ram.file.map()
            memory.keepAlive.append(hostRAM)
            memory.regions.append(GuestMemory.Region(name: "ram", range: context.ram, base: hostRAM.base))
            memory.views = GuestViews(privateView: ram, sharedView: shared.guest, viewBit: sharedBit, bitMeansPrivate: false)
        } else {
            memory.regions.append(GuestMemory.Region(name: "ram", range: context.ram, base: ram.base))
        }
        memory.regions.append(GuestMemory.Region(name: "shared-alias", range: GPARange(start: sharedBit, end: sharedBit + size), base: shared.host.base))
        return memory
    }

    func launchPages(image: Image, memory: GuestMemory, options: RunOptions, cpuid: () throws -> [CPUIDEntry]) throws -> [LaunchPage] {
        try TDXLaunchPages.populate(image: image, memory: memory, options: options)
    }

    /// The TDX module's MSR virtualization (`TDXMSRVirtualization`).
    var rawMSRRule: (any RawMSRRule)? { TDXMSRVirtualization() }

    func makeVCPU(index: Int, options: RunOptions) -> any PlatformVCPU {
        TDXVCPU(
            index: index, host: TDXHost(width: width, vcpuCount: options.vcpus, retriesToInject: options.injectRetries, attributes: attributes),
            septVEDisabled: septVEDisabled)
    }
}

/// One TD vCPU's platform half: TDCALL, and what a private access to a pending page meets.
final class TDXVCPU: PlatformVCPU {
    let index: Int
    private(set) var host: TDXHost
    let septVEDisabled: Bool

    init(index: Int, host: TDXHost, septVEDisabled: Bool) {
        self.index = index
        self.host = host
        self.septVEDisabled = septVEDisabled
    }

    func serve(_ instruction: RequestInstruction, _ request: inout TrappedRequest) -> TrappedOutcome {
        guard instruction == .tdcall else { return .stopped(.hostError("\(instruction) reached the TDX platform")) }
        var registers = TDCallRegisters(request.regs)
        let finish = host.tdcall(
            &registers, vcpu: index, service: request.machine.service, devices: request.devices, transport: .trap,
            events: &request.events)
        registers.store(into: &request.regs)
        switch finish {
        case nil: return .completed
        case .stopped(let reason)?: return .stopped(reason)
        case .exited(let code)?: return .exited(code)
        }
    }

    /// SEPT_VE_DISABLE clear: the module's #VE (or #DF); set: KVM reports "guest access before
    /// accepting" and marks the TD dead.
    /// A raw IN/OUT/INS/OUTS: the TDX module's #VE with exit reason 30 (`TDXModule.ioException`).
    func portIntercept(_ access: InterceptedPort) -> AccessFault? { host.module.ioException(for: access, vcpu: index) }
    var interceptsPortIO: Bool { true }
    /// A raw access where no RAM is: #VE for a shared GPA, the TD's end for a private one
    /// (`TDXModule.mmioException`).
    func mmioIntercept(_ access: InterceptedMMIO) -> AccessFault? { host.module.mmioException(for: access, vcpu: index) }
    var interceptsMMIO: Bool { true }
    /// A raw RDMSR/WRMSR the TDX module does not let run: its #VE or #GP
    /// (`TDXModule.msrException`).
    func msrIntercept(_ access: InterceptedMSR) -> AccessFault? { host.module.msrException(for: access, vcpu: index) }
    /// TDVMCALL RDMSR/WRMSR: KVM's emulation for a TD (`TDXEmulatedMSRs`).
    func forwardedReadMSR(_ index: UInt32, kvm: any HypervisorMSRs) -> UInt64? { TDXEmulatedMSRs.read(index, kvm: kvm) }
    func forwardedWriteMSR(_ index: UInt32, value: UInt64, kvm: any HypervisorMSRs) -> Bool {
        TDXEmulatedMSRs.write(index, value: value, kvm: kvm)
    }
    /// A raw CPUID: the TDX module's #VE with exit reason 10 for the leaves it does not answer
    /// itself (`TDXModule.cpuidException`).
    func cpuidIntercept(_ access: InterceptedCPUID) -> AccessFault? { host.module.cpuidException(for: access, vcpu: index) }
    /// A raw HLT: the TDX module's #VE with exit reason 12 (`TDXModule.hltException`).
    func hltIntercept(at: String) -> AccessFault? { host.module.hltException(at: at, vcpu: index) }

    func unacceptedAccess(_ access: UnacceptedAccess) -> AccessFault {
        guard septVEDisabled else { return host.module.virtualizationException(for: access, vcpu: index) }
        return .stop(
            .platformStopped(
                "guest access before accepting \(access.namedGPA) (a \(access.isWrite ? "write" : "read") through the private view of a pending page) at \(access.at): with SEPT_VE_DISABLE set KVM reports this and marks the TD dead; page states: \(access.states)"
            ))
    }
}
