import GuestABI
import GuestPhysical
import KVM
import Payload

/// One VM built for one image: its memory (RAM, and the ROM of the firmware layout, each in
/// a file of the run's `RAMBacking`), pre-populated from the plan, and its vCPUs set up to
/// start the image.
///
/// Owns every KVM object of the run; they are released together when the machine goes.
public final class Machine {
    public let image: Image
    public let options: RunOptions
    public let vm: VirtualMachine
    public let memory: GuestMemory
    public let population: Population
    public let service: ConversionService
    /// The platform's rules for this run (`RunOptions.platform`).
    let platform: any GuestPlatform
    /// Where guest RAM lives in this run, and why.
    public let ramBacking: RAMBacking
    /// The transport serving each interface in this run.
    public let transports: [ConversionPlatform: Transport]
    /// The request sites, with the instruction each holds.
    let sites: [UInt64: RequestInstruction]
    /// The sites each vCPU arms as hardware breakpoints, in slot order (DR0 first).
    let armedSites: [UInt64]
    let vcpus: [VCPU]
    /// The PC devices around a firmware volume (`Image.isFirmwareVolume`); nil for our images,
    /// which meet only the report channel.
    let board: Board?
    /// A firmware volume's metadata sections for this platform, which name a fault's GPA
    /// (`FirmwareMetadataSections`); nil for our images and on kvm.
    let firmwareSections: FirmwareMetadataSections?
    /// Each vCPU's CPUID as KVM_SET_CPUID2 gave it, which a forwarded CPUID (GHCB NAE event,
    /// TDVMCALL Instruction.CPUID) is answered from, as KVM's `kvm_emulate_cpuid` does.
    let cpuid: [[CPUIDEntry]]
    // Kept alive while memslots point into them.
    private let backings: [AnyObject]
    /// Bits the boot CR3 carries beyond the root's address (SNP: the C-bit, private tables).
    private let cr3Bits: UInt64

    static let ramSlot: UInt32 = 0
    static let romSlot: UInt32 = 1
    static let sharedAliasSlot: UInt32 = 2
    static let romPrivateAliasSlot: UInt32 = 3

    public init(image: Image, options: RunOptions, system: KVMSystem, probe: HostProbe) throws(RunError) {
        try options.validate()
        // A firmware's APs wait for INIT-SIPI from the BSP, which this runner does not model.
        guard !image.isFirmwareVolume || options.vcpus == 1 else {
            throw .invalidOptions(
                "--vcpus \(options.vcpus): a firmware volume runs with one vCPU here (its APs wait for INIT-SIPI, which the runner does not send)")
        }
        guard image.plan.ramEnd <= options.memory else {
            throw .planExceedsMemory(needed: image.plan.ramEnd, available: options.memory)
        }
        self.image = image
        self.options = options
        self.board = image.isFirmwareVolume ? Board(ramSize: options.memory, cpuCount: options.vcpus) : nil
        try FirmwareMetadataSections.checkOmission(image: image, options: options)
        self.firmwareSections = FirmwareMetadataSections(image: image, platform: options.platform, omitted: options.launchOmittedSection)
        let platform = GuestPlatforms.platform(for: options)
        self.platform = platform
        let transports = try Self.resolveTransports(options: options, probe: probe)
        self.transports = transports
        let sites = try Self.classifySites(image)
        self.sites = sites
        if let why = probe.cannotEnforce(options.platform) { throw .hostUnavailable(why) }
        let ramBacking = try probe.backing(requested: options.backing)
        self.ramBacking = ramBacking
        do {
            let vm = try Self.createVM(system: system, capabilities: probe.capabilities, transports: transports, platform: platform)
            self.vm = vm
            let context = LayoutContext(
                vm: vm, ramBacking: ramBacking, ram: GPARange(start: 0, end: options.memory),
                enforcing: !probe.usesMemoryAttributes)
            let laidOut = try Self.layOut(image: image, platform: platform, context)
            self.backings = laidOut.keepAlive
            let memory = GuestMemory(regions: laidOut.regions)
            self.memory = memory
            // The CPUID each vCPU is given; the SNP CPUID page holds vCPU 0's.
            let supported = try system.supportedCPUID()
            let cpuid = { (index: Int) in
                CPUIDTable.forVCPU(index, supported: supported, platform: platform, physicalAddressBits: platform.physicalAddressBits)
            }
            let launched = try Self.launch(
                image: image, options: options, platform: platform, memory: memory, laidOut: laidOut,
                vm: vm, context: context, cpuid: { try ObservedCPUID.observe(system: system, entries: cpuid(0)) })
            self.population = launched.population
            self.cr3Bits = launched.cr3Bits
            self.service = launched.service
            let armedSites = try Self.armedSites(
                sites, platform: options.platform, transports: transports,
                firmwareRequests: image.isFirmwareVolume ? RequestInstructionCheck.run(system: system) : nil)
            self.armedSites = armedSites
            let tables = (0..<options.vcpus).map(cpuid)
            self.cpuid = tables
            self.vcpus = try Self.setUpVCPUs(
                vm: vm, image: image, options: options, capabilities: probe.capabilities, cpuid: { tables[$0] },
                cr3Bits: launched.cr3Bits, trapped: armedSites)
        } catch let error as KVMError {
            throw .kvm(error)
        } catch let error as RunError {
            throw error
        } catch {
            throw .hostUnavailable("\(error)")
        }
    }

    /// A default VM as a test harness needs it: guest code never patched, MSRs and the
    /// native hypercall exit to user space where the run uses them.
    private static func createVM(
        system: KVMSystem, capabilities: HostCapabilities,
        transports: [ConversionPlatform: Transport], platform: any GuestPlatform
    ) throws(KVMError) -> VirtualMachine {
        let vm = try system.createVM(type: .default)
        // A test harness must never have its guest code patched (docs/host-findings.md §2).
        if capabilities.disableQuirks2.contains(.fixHypercallInstruction) {
            try vm.disableQuirks(.fixHypercallInstruction)
        }
        if capabilities.userSpaceMSR { try vm.enableUserSpaceMSR(.all) }
        // The platform's MSR intercepts: every raw RDMSR/WRMSR its rule keeps from KVM exits
        // (KVM_MSR_EXIT_REASON_FILTER) for `VCPULoop+MSRs` to answer as the platform does.
        if capabilities.userSpaceMSR, capabilities.msrFilter, let rule = platform.rawMSRRule {
            try vm.setMSRFilter(rule.filter)
        }
        if transports[.kvm] == .native { try vm.enableHypercallExits(mask: 1 << MapGPARange.hypercallNumber) }
        return vm
    }

    /// Step 1, the layout: RAM's memslots, views and host mappings as the platform lays
    /// them out, and the firmware ROM's.
    private static func layOut(image: Image, platform: any GuestPlatform, _ context: LayoutContext) throws -> MachineMemory {
        var memory = try platform.layOutRAM(context)
        if image.layout == .firmware {
            let rom = try context.ramBacking.slot(vm: context.vm, slot: Self.romSlot, range: Layout.romWindow, name: "rom")
            memory.regions.append(GuestMemory.Region(name: "rom", range: Layout.romWindow, base: rom.base))
            memory.keepAlive.append(rom)
            try platform.mapROM(rom, context, into: &memory)
        }
        return memory
    }

    /// Step 2, the launch: the plan populated, the platform's launch pages and boot tables,
    /// RAM's launch states (made private in KVM's attributes where it has them) and the
    /// conversion service over them. Population happens before any vCPU exists, let alone runs.
    private static func launch(
        image: Image, options: RunOptions, platform: any GuestPlatform, memory: GuestMemory, laidOut: MachineMemory,
        vm: VirtualMachine, context: LayoutContext, cpuid: () throws -> [CPUIDEntry]
    ) throws -> (population: Population, cr3Bits: UInt64, service: ConversionService) {
        var population = try Population.populate(image: image, into: memory)
        population.launchPages = try platform.launchPages(image: image, memory: memory, options: options, cpuid: cpuid)
        let cr3Bits = try platform.prepareBootPaging(image: image, memory: memory, enforcing: context.enforcing)
        let initial = population.initialStates(memory: options.memory, platform: options.platform)
        if !context.enforcing {
            // Populated first, then made private: the order pre-population requires.
            for interval in initial.intervals where interval.state == .private {
                try vm.setMemoryAttributes(address: interval.range.start, size: interval.range.size, attributes: .private)
            }
        }
        let service = try ConversionService(
            initial: initial, ram: context.ram, backing: laidOut.backing,
            memoryAttributes: context.enforcing ? nil : vm, platform: options.platform, views: laidOut.views, memory: memory)
        return (population, cr3Bits, service)
    }

    /// Step 3, the vCPUs: each with its CPUID, its boot state and the armed request sites.
    private static func setUpVCPUs(
        vm: VirtualMachine, image: Image, options: RunOptions, capabilities: HostCapabilities, cpuid: (Int) -> [CPUIDEntry],
        cr3Bits: UInt64, trapped: [UInt64]
    ) throws -> [VCPU] {
        var vcpus: [VCPU] = []
        for index in 0..<options.vcpus {
            let vcpu = try vm.createVCPU(id: UInt32(index))
            try vcpu.setCPUID(cpuid(index))
            if capabilities.syncRegs.isSuperset(of: [.registers, .specialRegisters]) { try vcpu.enableSyncRegisters([.registers, .specialRegisters]) }
            try BootState.prepare(vcpu, index: index, image: image, cr3Bits: cr3Bits)
            if image.isFirmwareVolume, options.platform == .tdx, let hob = TDXLaunchPages.hobAddress(image) {
                try TDVCPUInitialState.apply(to: vcpu, index: index, gpaw: options.tdxAddressWidth.rawValue, hobAddress: hob, cpuid: cpuid(index))
            }
            if !trapped.isEmpty || options.catchRawCPUID { try vcpu.setHardwareBreakpoints(trapped, singleStep: options.catchRawCPUID) }
            vcpus.append(vcpu)
        }
        return vcpus
    }

    /// Each interface's transport: the override if given and possible here, else the probe's.
    private static func resolveTransports(options: RunOptions, probe: HostProbe) throws(RunError) -> [ConversionPlatform: Transport] {
        var transports = probe.transports
        if let forced = options.transport {
            if forced == .native, options.platform == .kvm, !probe.nativeHypercallDelivered {
                // The probe ran a guest's vmcall and vmmcall: forcing the exit on anyway only
                // turns every request into a guest #UD or a hang (docs/host-findings.md §2).
                let seen = probe.nativeHypercall.sorted { $0.key < $1.key }.map(\.value).joined(separator: "; ")
                throw .invalidOptions(
                    "--transport native: this host's KVM does not deliver KVM_EXIT_HYPERCALL (\(seen.isEmpty ? "the probe saw no delivery" : seen)); use --transport trap or auto"
                )
            }
            for platform in ConversionPlatform.allCases {
                if forced == .native, platform != .kvm, probe.transports[platform] != .native {
                    // Only SNP/TDX hardware turns PSC/MapGPA into exits; nothing else can.
                    if options.platform == platform {
                        throw .invalidOptions(
                            "--transport native: \(platform.rawValue) requests cannot reach the host natively here (no \(platform == .sevSNP ? "SEV-SNP" : "TDX") VM type)"
                        )
                    }
                    continue
                }
                transports[platform] = forced
            }
        }
        return transports
    }

    /// The sites the run arms: its platform's trapped ones, at most the four debug registers.
    /// A run without a platform serves no request, so it arms none: every image links the
    /// library's VMGEXIT and TDCALL sites (the runtime speaks the protocols on SNP and TDX),
    /// and an armed breakpoint costs every exit of the run (docs/benchmarks.md). A guest that
    /// does reach a site there faults at it as a plain guest would, and `symbolize` names the
    /// platform the site belongs to.
    private static func armedSites(
        _ sites: [UInt64: RequestInstruction], platform: ConversionPlatform?,
        transports: [ConversionPlatform: Transport], firmwareRequests: [RequestInstruction: RequestInstructionCheck.Outcome]?
    ) throws(RunError) -> [UInt64] {
        guard let platform else { return [] }
        let armed = sites.filter { site in
            guard transports[site.value.platform] == .trap, site.value.platform == platform else { return false }
            guard let host = firmwareRequests else { return true }
            return FirmwareRequestSites.needsBreakpoint(site.value, on: host)
        }
        if firmwareRequests != nil, armed.count > 4 {
            let named = armed.sorted { $0.key < $1.key }.map { "\($0.value) at \(hex($0.key))" }.joined(separator: ", ")
            throw .invalidOptions(
                "the firmware's flash holds \(armed.count) request instructions this host raises as exceptions instead of exiting (\(named)); a run can trap at most 4 (x86 debug registers), and the breakpoint on the guest's #UD handler that would serve the rest is not built (docs/firmware.md)"
            )
        }
        guard armed.count <= 4 else {
            throw .invalidOptions(
                "the image has \(armed.count) request sites for \(platform.rawValue); a run can trap at most 4 (x86 debug registers)")
        }
        return armed.map(\.key).sorted()
    }

    /// `pc` by symbol; at a request site this run does not serve, also the platform whose
    /// request it is, so a fault there says how to run the image.
    func symbolize(_ pc: UInt64) -> String {
        let named = image.symbolize(pc)
        guard let instruction = sites[pc], !armedSites.contains(pc) else { return named }
        let running = options.platform.map { "a run as \($0.rawValue)" } ?? "a run with no confidential platform"
        return named + " (a \(instruction.platform.rawValue) request site, which \(running) does not serve; choose --platform \(instruction.platform.rawValue))"
    }

    /// The instruction at every request site, read from the image: a site that holds none of
    /// the request instructions is a mislabelled stub, refused before it runs.
    private static func classifySites(_ image: Image) throws(RunError) -> [UInt64: RequestInstruction] {
        if image.isFirmwareVolume { return FirmwareRequestSites.scan(image) }
        var sites: [UInt64: RequestInstruction] = [:]
        for site in image.sites {
            let bytes = image.contents(of: GPARange(start: site.address, end: site.address + UInt64(RequestInstruction.longest)))
            // SAFETY: the buffer is the array's own storage, read only inside the closure.
            guard let instruction = bytes.withUnsafeBytes({ RequestInstruction(bytes: $0) }) else {
                throw .invalidOptions(
                    "request site \(site.name) at \(hex(site.address)) holds \(bytes.map { String(format: "%02x", $0) }.joined(separator: " ")), not vmcall, vmmcall, VMGEXIT or TDCALL"
                )
            }
            sites[site.address] = instruction
        }
        return sites
    }
}
