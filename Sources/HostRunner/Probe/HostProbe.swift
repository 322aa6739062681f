import Foundation
import KVM
import Synchronization

/// What this host offers and what the runner will therefore do. Computed once per process.
public struct HostProbe: Sendable {
    public enum PopulationStrategy: String, Sendable, Codable {
        /// Write through an mmap of guest_memfd (GUEST_MEMFD_FLAG_MMAP | INIT_SHARED), then
        /// make the ranges private in the runner's own page-state map.
        case guestMemfdMmap = "guest_memfd-mmap"
        /// The same through an mmap of the memfd stand-in (`RAMBacking.Kind.memfd`).
        case memfdMmap = "memfd-mmap"
    }

    /// What the probe read, less what `profile` masks: every strategy is chosen from this.
    public let capabilities: HostCapabilities
    /// The kernel this host is run as (`HostProfile.host` unless asked otherwise).
    public let profile: HostProfile
    public let nativeHypercall: [String: String]
    public let nativeHypercallDelivered: Bool
    public let transports: [ConversionPlatform: Transport]
    /// Where guest RAM lives unless a run asks for the stand-in (`backing(requested:)`).
    public let ramBacking: RAMBacking
    public var population: PopulationStrategy { ramBacking.kind == .guestMemfd ? .guestMemfdMmap : .memfdMmap }
    public let vmType: VMType
    /// KVM_SET_MEMORY_ATTRIBUTES can mark ranges private on the VM type the runner uses.
    public let usesMemoryAttributes: Bool

    /// The probe of this process's host, as the environment's profile shows it
    /// (`HostProfile.fromEnvironment`): run on first use, then the same answer every time,
    /// so a `Runner.run` without a probe creates no probe VMs after the first. A failed
    /// probe is not remembered (the next call tries again).
    public static func once(system: KVMSystem) throws(KVMError) -> HostProbe {
        if let known = memo.withLock({ $0 }) { return known }
        let profile: HostProfile
        do { profile = try HostProfile.fromEnvironment(ProcessInfo.processInfo.environment) } catch {
            throw .invalidArgument("\(error)")
        }
        let probe = try run(system: system, profile: profile)
        memo.withLock { $0 = $0 ?? probe }
        return probe
    }

    /// The host does not change under a running process; this memo is the only state behind
    /// `once`, written once.
    private static let memo = Mutex<HostProbe?>(nil)

    /// Probes the host now (`enlighten probe`; tests that need a fresh answer), as `profile`
    /// would have it.
    public static func run(system: KVMSystem, profile: HostProfile = .host) throws(KVMError) -> HostProbe {
        let capabilities = profile.apply(to: try system.probe())
        var details: [String: String] = [:]
        var delivered = false
        if capabilities.mapGPARangeExit {
            for instruction in NativeHypercallCheck.Instruction.allCases {
                let outcome = NativeHypercallCheck.run(system: system, instruction: instruction, quirks: capabilities.disableQuirks2)
                details[instruction.rawValue] = outcome.detail
                delivered = delivered || outcome.delivered
            }
        } else {
            details["advertised"] = "KVM_CAP_EXIT_HYPERCALL does not include KVM_HC_MAP_GPA_RANGE"
        }
        var guestMemfdFailure: String?
        if capabilities.canUseGuestMemfd {
            switch BackingTrial.run(system: system, backing: RAMBacking(kind: .guestMemfd, memslotCall: .region2, reason: "probe")) {
            case .viewsHold: break
            case .refused(let why), .viewsDoNotHold(let why): guestMemfdFailure = why
            }
        }
        var probe = HostProbe(
            capabilities: capabilities, nativeHypercall: details, nativeHypercallDelivered: delivered,
            profile: profile, guestMemfdFailure: guestMemfdFailure)
        if probe.ramBacking.kind == .memfd, case .viewsDoNotHold(let why) = BackingTrial.run(system: system, backing: probe.ramBacking) {
            probe.viewsFailure = why
        }
        return probe
    }

    /// Why the runner cannot enforce private memory through its views on this host (a closed
    /// page of a memslot's mapping does not exit as MMIO), or nil when it can. SEV-SNP and
    /// TDX runs need the views where KVM has no memory attributes.
    public internal(set) var viewsFailure: String?

    /// `guestMemfdFailure`: why guest_memfd cannot serve as the runner uses it although the
    /// capabilities promise it (nil: it can, or it was not tried).
    init(
        capabilities: HostCapabilities, nativeHypercall: [String: String], nativeHypercallDelivered: Bool,
        profile: HostProfile = .host, guestMemfdFailure: String? = nil
    ) {
        self.capabilities = capabilities
        self.profile = profile
        self.nativeHypercall = nativeHypercall
        self.nativeHypercallDelivered = nativeHypercallDelivered
        let canTrapInstructions = capabilities.guestDebug.isSuperset(of: [.enable, .useHardwareBreakpoints])
        let trap: Transport = canTrapInstructions ? .trap : .unavailable
        // KVM turns PSC and MapGPA into hypercall exits only inside SNP and TDX VMs. The runner
        // creates default VMs (their launch sequence is not implemented), so GHCB and TDX
        // requests are trapped even on such hardware; the probe still reports the hardware.
        transports = [
            .kvm: nativeHypercallDelivered ? .native : trap,
            .sevSNP: canTrapInstructions && capabilities.userSpaceMSR ? .trap : .unavailable,
            .tdx: trap,
        ]
        let memslotCall: RAMBacking.MemslotCall = capabilities.userMemory2 ? .region2 : .region
        if let why = capabilities.guestMemfdMissing ?? guestMemfdFailure {
            ramBacking = RAMBacking(kind: .memfd, memslotCall: memslotCall, reason: why)
        } else {
            ramBacking = RAMBacking(
                kind: .guestMemfd, memslotCall: .region2,
                reason: "a default VM takes guest_memfd with MMAP|INIT_SHARED")
        }
        vmType = .default
        usesMemoryAttributes = capabilities.memoryAttributes.contains(.private)
    }

    /// The capability whose absence leaves `platform` with no transport, or nil when it has
    /// one (`transports`): trapping needs hardware breakpoints, and SEV-SNP's GHCB MSR
    /// protocol user-space MSR exits.
    public func missingForTrap(_ platform: ConversionPlatform) -> String? {
        guard transports[platform] == .unavailable else { return nil }
        if !capabilities.guestDebug.isSuperset(of: [.enable, .useHardwareBreakpoints]) {
            return "\(HostProfile.Capability.hardwareBreakpoints.kvmName) (hardware breakpoints)"
        }
        if platform == .sevSNP, !capabilities.userSpaceMSR { return HostProfile.Capability.userSpaceMSR.kvmName }
        return nil
    }

    /// Why this host cannot run `platform`'s guests as the hardware would, or nil: SEV-SNP
    /// and TDX need private memory enforced, by KVM's memory attributes or the runner's views.
    public func cannotEnforce(_ platform: ConversionPlatform?) -> String? {
        guard platform == .sevSNP || platform == .tdx, !usesMemoryAttributes, let why = viewsFailure else { return nil }
        return
            "this host's KVM gives the runner no way to enforce \(platform == .sevSNP ? "SEV-SNP" : "TDX") private memory (no KVM_CAP_MEMORY_ATTRIBUTES, and \(why))"
    }

    /// The backing a run uses: the probe's choice, or the one asked for. Asking for
    /// guest_memfd where a default VM cannot have it is a usage error naming why.
    public func backing(requested: RAMBacking.Kind?) throws(RunError) -> RAMBacking {
        switch requested {
        case nil:
            return ramBacking
        case .memfd?:
            return ramBacking.kind == .memfd
                ? ramBacking
                : RAMBacking(kind: .memfd, memslotCall: ramBacking.memslotCall, reason: "asked for (--backing memfd or ENLIGHTEN_BACKING=memfd)")
        case .guestMemfd?:
            guard ramBacking.kind == .guestMemfd else {
                throw .invalidOptions(
                    "--backing guest_memfd: this host cannot give a default VM guest_memfd (\(ramBacking.reason)); use --backing memfd or auto")
            }
            return ramBacking
        }
    }
}

extension HostCapabilities {
    /// Why these capabilities rule guest_memfd out for a default VM, or nil when they allow it.
    var guestMemfdMissing: String? {
        if !guestMemfd { return "no guest_memfd for a default VM (KVM_CAP_GUEST_MEMFD is 0)" }
        let needed: GuestMemfdFlags = [.mmap, .initShared]
        if !guestMemfdFlags.isSuperset(of: needed) {
            return "guest_memfd without GUEST_MEMFD_FLAG_MMAP|INIT_SHARED (KVM_CAP_GUEST_MEMFD_FLAGS is \(guestMemfdFlags.rawValue))"
        }
        if !userMemory2 { return "no KVM_SET_USER_MEMORY_REGION2 (KVM_CAP_USER_MEMORY2 is 0)" }
        return nil
    }

    var canUseGuestMemfd: Bool { guestMemfdMissing == nil }
}
