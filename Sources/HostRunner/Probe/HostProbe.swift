import KVM
import Synchronization

/// How a guest's conversion requests of one interface reach the host.
public enum Transport: String, Sendable, Codable, CaseIterable {
    /// KVM delivers KVM_EXIT_HYPERCALL (on SNP/TDX hardware it turns PSC and MapGPA into it).
    case native
    /// The runner traps the request instruction with a hardware breakpoint (and the GHCB MSR
    /// with user-space MSR exits) and performs the host's side itself.
    case trap
    case unavailable
}

/// The three guest→host conversion interfaces, by the platform that defines each.
public enum ConversionPlatform: String, Sendable, Codable, CaseIterable {
    /// KVM_HC_MAP_GPA_RANGE.
    case kvm
    /// SEV-SNP GHCB Page State Change.
    case ghcb
    /// TDX TDVMCALL MapGPA.
    case tdx
}

/// What this host offers and what the runner will therefore do. Computed once per process.
public struct HostProbe: Sendable {
    public enum PopulationStrategy: String, Sendable, Codable {
        /// Write through an mmap of guest_memfd (GUEST_MEMFD_FLAG_MMAP | INIT_SHARED), then
        /// make the ranges private in the runner's own page-state map.
        case guestMemfdMmap = "guest_memfd-mmap"
        case unavailable
    }

    public let capabilities: HostCapabilities
    public let nativeHypercall: [String: String]
    public let nativeHypercallDelivered: Bool
    public let transports: [ConversionPlatform: Transport]
    public let population: PopulationStrategy
    public let vmType: VMType
    /// KVM_SET_MEMORY_ATTRIBUTES can mark ranges private on the VM type the runner uses.
    public let usesMemoryAttributes: Bool

    /// The probe of this process's host: run on first use, then the same answer every time,
    /// so a `Runner.run` without a probe creates no probe VMs after the first. A failed
    /// probe is not remembered (the next call tries again).
    public static func once(system: KVMSystem) throws(KVMError) -> HostProbe {
        if let known = memo.withLock({ $0 }) { return known }
        let probe = try run(system: system)
        memo.withLock { $0 = $0 ?? probe }
        return probe
    }

    /// The host does not change under a running process; this memo is the only state behind
    /// `once`, written once.
    private static let memo = Mutex<HostProbe?>(nil)

    /// Probes the host now (`enlighten probe`; tests that need a fresh answer).
    public static func run(system: KVMSystem) throws(KVMError) -> HostProbe {
        let capabilities = try system.probe()
        var details: [String: String] = [:]
        var delivered = false
        if capabilities.mapGPARangeExit {
            for instruction in NativeHypercallCheck.Instruction.allCases {
                let outcome = NativeHypercallCheck.run(system: system, instruction: instruction)
                details[instruction.rawValue] = outcome.detail
                delivered = delivered || outcome.delivered
            }
        } else {
            details["advertised"] = "KVM_CAP_EXIT_HYPERCALL does not include KVM_HC_MAP_GPA_RANGE"
        }
        return HostProbe(capabilities: capabilities, nativeHypercall: details, nativeHypercallDelivered: delivered)
    }

    init(capabilities: HostCapabilities, nativeHypercall: [String: String], nativeHypercallDelivered: Bool) {
        self.capabilities = capabilities
        self.nativeHypercall = nativeHypercall
        self.nativeHypercallDelivered = nativeHypercallDelivered
        let canTrapInstructions = capabilities.guestDebug.isSuperset(of: [.enable, .useHardwareBreakpoints])
        let trap: Transport = canTrapInstructions ? .trap : .unavailable
        // KVM turns PSC and MapGPA into hypercall exits only inside SNP and TDX VMs. The runner
        // creates default VMs (their launch sequence is not implemented), so GHCB and TDX
        // requests are trapped even on such hardware; the probe still reports the hardware.
        transports = [
            .kvm: nativeHypercallDelivered ? .native : trap,
            .ghcb: canTrapInstructions && capabilities.userSpaceMSR ? .trap : .unavailable,
            .tdx: trap,
        ]
        // SNP LAUNCH_UPDATE and TDX INIT_MEM_REGION need SNP/TDX VMs; HardwarePopulation builds
        // their commands from the plan, but the runner populates default VMs through the mapping.
        population = capabilities.guestMemfd && capabilities.guestMemfdFlags.isSuperset(of: [.mmap, .initShared])
            ? .guestMemfdMmap : .unavailable
        vmType = .default
        usesMemoryAttributes = capabilities.memoryAttributes.contains(.private)
    }
}
