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
    /// Where guest RAM lives in this run, and why.
    public let ramBacking: RAMBacking
    /// The transport serving each interface in this run.
    public let transports: [ConversionPlatform: Transport]
    /// The request sites, with the instruction each holds.
    let sites: [UInt64: RequestInstruction]
    let vcpus: [VCPU]
    // Kept alive while memslots point into them.
    private let backings: [AnyObject]
    /// Bits the boot CR3 carries beyond the root's address (SNP: the C-bit, private tables).
    private let cr3Bits: UInt64

    static let ramSlot: UInt32 = 0
    static let romSlot: UInt32 = 1
    static let sharedAliasSlot: UInt32 = 2
    static let romPrivateAliasSlot: UInt32 = 3

    public init(image: Image, options: RunOptions, system: KVMSystem, probe: HostProbe) throws(RunError) {
        guard options.vcpus >= 1, options.vcpus <= RunOptions.maximumVCPUs else {
            throw .invalidOptions("--vcpus must be between 1 and \(RunOptions.maximumVCPUs) (the runtime has one stack per vCPU)")
        }
        guard options.memory >= 1 << 20, options.memory % (2 << 20) == 0, options.memory <= Layout.ramWindow.end else {
            throw .invalidOptions("--memory must be a multiple of 2 MiB between 2 MiB and 3 GiB (got \(hex(options.memory)))")
        }
        guard image.plan.ramEnd <= options.memory else {
            throw .planExceedsMemory(needed: image.plan.ramEnd, available: options.memory)
        }
        self.image = image
        self.options = options
        let transports = try Self.resolveTransports(options: options, probe: probe)
        self.transports = transports
        let sites = try Self.classifySites(image)
        self.sites = sites
        if let why = probe.cannotEnforce(options.platform) { throw .hostUnavailable(why) }
        let ramBacking = try probe.backing(requested: options.backing)
        self.ramBacking = ramBacking
        let capabilities = probe.capabilities
        do {
            let vm = try system.createVM(type: .default)
            self.vm = vm
            // A test harness must never have its guest code patched (docs/host-findings.md §2).
            if capabilities.disableQuirks2.contains(.fixHypercallInstruction) {
                try vm.disableQuirks(.fixHypercallInstruction)
            }
            if capabilities.userSpaceMSR { try vm.enableUserSpaceMSR(.all) }
            if transports[.kvm] == .native { try vm.enableHypercallExits(mask: 1 << MapGPARange.hypercallNumber) }

            var regions: [GuestMemory.Region] = []
            var backings: [AnyObject] = []
            let ramRange = GPARange(start: 0, end: options.memory)
            // SEV-SNP where KVM enforces nothing: RAM's private view at GPA | C-bit, its
            // shared view at GPA, both memslots, so the runner can enforce the RMP itself.
            // The guest's page tables carry the C-bit: a direct64 image's as the VMM hands them
            // over, a firmware image's as its reset path makes them.
            let enforceSNP = options.platform == .ghcb && !probe.usesMemoryAttributes
            let ramSlotRange = enforceSNP ? GPARange(start: GHCBHost.cBit, end: GHCBHost.cBit + options.memory) : ramRange
            let ram = try ramBacking.slot(vm: vm, slot: Self.ramSlot, range: ramSlotRange, name: "ram")
            backings.append(ram)
            var backing = ConversionService.Backing.unified(ram.file)
            var views: GuestViews?
            if enforceSNP {
                let sharedView = try ram.file.map(), hostView = try ram.file.map()
                try vm.setUserMemoryRegion(slot: Self.sharedAliasSlot, guestPhysicalAddress: 0, size: options.memory, userspaceAddress: sharedView.userspaceAddress)
                backings.append(sharedView)
                backings.append(hostView)
                regions.append(GuestMemory.Region(name: "ram", range: ramRange, base: hostView.base))
                views = GuestViews(privateView: ram, sharedView: sharedView, viewBit: GHCBHost.cBit, bitMeansPrivate: true)
            } else if options.platform == .tdx {
                // As a TDX VMM does: shared pages live at GPA | shared bit, in a backing of
                // their own, while RAM's file holds the private side at GPA.
                let sharedBit = options.tdxAddressWidth.sharedBit
                let shared = try MemoryMapping.pair(size: Int(options.memory), name: "enlighten-shared")
                try vm.setUserMemoryRegion(slot: Self.sharedAliasSlot, guestPhysicalAddress: sharedBit, size: options.memory, userspaceAddress: shared.guest.userspaceAddress)
                backings.append(shared.guest)
                backings.append(shared.host)
                backing = .split(private: ram.file, shared: shared.host)
                if !probe.usesMemoryAttributes {
                    // KVM enforces nothing here: the runner does, through the guest's views,
                    // while the host keeps mappings of its own that no protection touches.
                    let hostRAM = try ram.file.map()
                    backings.append(hostRAM)
                    regions.append(GuestMemory.Region(name: "ram", range: ramRange, base: hostRAM.base))
                    views = GuestViews(privateView: ram, sharedView: shared.guest, viewBit: sharedBit, bitMeansPrivate: false)
                } else {
                    regions.append(GuestMemory.Region(name: "ram", range: ramRange, base: ram.base))
                }
                regions.append(GuestMemory.Region(name: "shared-alias", range: GPARange(start: sharedBit, end: sharedBit + options.memory), base: shared.host.base))
            } else {
                regions.append(GuestMemory.Region(name: "ram", range: ramRange, base: ram.base))
            }
            if image.layout == .firmware {
                let rom = try ramBacking.slot(vm: vm, slot: Self.romSlot, range: Layout.romWindow, name: "rom")
                regions.append(GuestMemory.Region(name: "rom", range: Layout.romWindow, base: rom.base))
                backings.append(rom)
                if enforceSNP {
                    // The ROM is private memory an SNP launch validated; the guest reaches it at
                    // GPA before paging (every access private then) and at GPA | C-bit after.
                    // Both are the same bytes; the guest never converts it, so neither view is
                    // ever closed.
                    let romPrivate = try rom.file.map()
                    try vm.setUserMemoryRegion(slot: Self.romPrivateAliasSlot, guestPhysicalAddress: Layout.romWindow.start | GHCBHost.cBit,
                                               size: Layout.romWindow.size, userspaceAddress: romPrivate.userspaceAddress)
                    backings.append(romPrivate)
                }
            }
            self.backings = backings
            let memory = GuestMemory(regions: regions)
            self.memory = memory

            // Population happens before any vCPU exists, let alone runs.
            let supported = try system.supportedCPUID()
            // The CPUID each vCPU is given; the SNP CPUID page holds vCPU 0's.
            let cpuid = { (index: Int) in
                CPUIDTable.forVCPU(index, supported: supported, platform: options.platform,
                                   physicalAddressBits: Self.physicalAddressBits(options))
            }
            var population = try Population.populate(image: image, into: memory)
            if let (firmware, metadata) = try SNPLaunchPages.metadata(image: image, options: options) {
                let seen = try ObservedCPUID.observe(system: system, entries: cpuid(0))
                population.launchPages = try SNPLaunchPages.populate(firmware, metadata, memory: memory, cpuid: seen, options: options)
            }
            population.launchPages += try TDXLaunchPages.populate(image: image, memory: memory, options: options)
            self.population = population
            let vmmGivesCBit = enforceSNP && image.layout == .direct64
            if vmmGivesCBit {
                // The boot page tables as an SNP VMM must hand them over: with the C-bit.
                guard SNPBootPaging.encrypt(root: image.pageTableRoot, memory: memory, cBit: GHCBHost.cBit) else {
                    throw RunError.invalidOptions("the image's page tables at \(hex(image.pageTableRoot)) are not the runtime's: cannot give them the C-bit")
                }
            }
            self.cr3Bits = vmmGivesCBit ? GHCBHost.cBit : 0
            let initial = population.initialStates(memory: options.memory, platform: options.platform)
            if probe.usesMemoryAttributes {
                // Populated first, then made private: the order pre-population requires.
                for interval in initial.intervals where interval.state == .private {
                    try vm.setMemoryAttributes(address: interval.range.start, size: interval.range.size, attributes: .private)
                }
            }
            self.service = try ConversionService(
                initial: initial, ram: ramRange, backing: backing,
                memoryAttributes: probe.usesMemoryAttributes ? vm : nil, platform: options.platform, views: views, memory: memory)

            let trapped = try Self.armedSites(sites, platform: options.platform, transports: transports)
            var vcpus: [VCPU] = []
            for index in 0..<options.vcpus {
                let vcpu = try vm.createVCPU(id: UInt32(index))
                try vcpu.setCPUID(cpuid(index))
                if capabilities.syncRegs.isSuperset(of: [.registers, .specialRegisters]) { try vcpu.enableSyncRegisters([.registers, .specialRegisters]) }
                try BootState.prepare(vcpu, index: index, image: image, cr3Bits: cr3Bits)
                if !trapped.isEmpty { try vcpu.setHardwareBreakpoints(trapped) }
                vcpus.append(vcpu)
            }
            self.vcpus = vcpus
        } catch let error as KVMError {
            throw .kvm(error)
        } catch let error as RunError {
            throw error
        } catch {
            throw .hostUnavailable("\(error)")
        }
    }

    /// Each interface's transport: the override if given and possible here, else the probe's.
    private static func resolveTransports(options: RunOptions, probe: HostProbe) throws(RunError) -> [ConversionPlatform: Transport] {
        var transports = probe.transports
        if let forced = options.transport {
            if forced == .native, options.platform == .kvm, !probe.nativeHypercallDelivered {
                // The probe ran a guest's vmcall and vmmcall: forcing the exit on anyway only
                // turns every request into a guest #UD or a hang (docs/host-findings.md §2).
                let seen = probe.nativeHypercall.sorted { $0.key < $1.key }.map(\.value).joined(separator: "; ")
                throw .invalidOptions("--transport native: this host's KVM does not deliver KVM_EXIT_HYPERCALL (\(seen.isEmpty ? "the probe saw no delivery" : seen)); use --transport trap or auto")
            }
            for platform in ConversionPlatform.allCases {
                if forced == .native, platform != .kvm, probe.transports[platform] != .native {
                    // Only SNP/TDX hardware turns PSC/MapGPA into exits; nothing else can.
                    if options.platform == platform {
                        throw .invalidOptions("--transport native: \(platform.rawValue) requests cannot reach the host natively here (no \(platform == .ghcb ? "SEV-SNP" : "TDX") VM type)")
                    }
                    continue
                }
                transports[platform] = forced
            }
        }
        return transports
    }

    /// The guest MAXPHYADDR a platform's view bit needs (TDX: GPAW; SNP: above the C-bit).
    private static func physicalAddressBits(_ options: RunOptions) -> UInt32? {
        switch options.platform {
        case .tdx?: UInt32(options.tdxAddressWidth.rawValue)
        case .ghcb?: GHCBHost.physicalAddressBits
        default: nil
        }
    }

    /// The sites the run arms: its platform's trapped ones (without a platform, every trapped
    /// site, so a request names the platform it needs); at most the four debug registers.
    private static func armedSites(_ sites: [UInt64: RequestInstruction], platform: ConversionPlatform?,
                                   transports: [ConversionPlatform: Transport]) throws(RunError) -> [UInt64] {
        let armed = sites.filter { transports[$0.value.platform] == .trap && (platform == nil || $0.value.platform == platform) }
        guard armed.count <= 4 else {
            throw .invalidOptions("the image has \(armed.count) request sites for \(platform?.rawValue ?? "the platforms"); a run can trap at most 4 (x86 debug registers)")
        }
        return armed.map(\.key).sorted()
    }

    /// The instruction at every request site, read from the image: a site that holds none of
    /// the request instructions is a mislabelled stub, refused before it runs.
    private static func classifySites(_ image: Image) throws(RunError) -> [UInt64: RequestInstruction] {
        var sites: [UInt64: RequestInstruction] = [:]
        for site in image.sites {
            let bytes = image.contents(of: GPARange(start: site.address, end: site.address + UInt64(RequestInstruction.longest)))
            guard let instruction = bytes.withUnsafeBytes({ RequestInstruction(bytes: $0) }) else {
                throw .invalidOptions("request site \(site.name) at \(hex(site.address)) holds \(bytes.map { String(format: "%02x", $0) }.joined(separator: " ")), not vmcall, vmmcall, VMGEXIT or TDCALL")
            }
            sites[site.address] = instruction
        }
        return sites
    }
}
