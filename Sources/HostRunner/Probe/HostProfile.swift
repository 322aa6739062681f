import Foundation
import KVM

/// A host as if its kernel offered less: capabilities the probe reads, masked before any
/// strategy is chosen from them, so the runner and the suite can be run here as they would
/// run on the kernels users have (`docs/host-support.md`). A mask only takes away: a
/// profile never grants what this host lacks.
public struct HostProfile: Sendable, Equatable, CustomStringConvertible {
    /// A capability the probe reads and a profile can take away.
    public enum Capability: String, Sendable, CaseIterable, Codable, Comparable {
        case guestMemfd = "guest_memfd"
        case guestMemfdFlags = "guest_memfd_flags"
        case userMemory2 = "user_memory2"
        case memoryAttributes = "memory_attributes"
        case memoryFaultInfo = "memory_fault_info"
        case vmTypes = "vm_types"
        case exitHypercall = "exit_hypercall"
        case userSpaceMSR = "user_space_msr"
        case syncRegs = "sync_regs"
        case hardwareBreakpoints = "hardware_breakpoints"
        case disableQuirks2 = "disable_quirks2"

        /// The uapi name, as a skip or an error names what is missing.
        public var kvmName: String {
            switch self {
            case .guestMemfd: "KVM_CAP_GUEST_MEMFD"
            case .guestMemfdFlags: "KVM_CAP_GUEST_MEMFD_FLAGS"
            case .userMemory2: "KVM_CAP_USER_MEMORY2"
            case .memoryAttributes: "KVM_CAP_MEMORY_ATTRIBUTES"
            case .memoryFaultInfo: "KVM_CAP_MEMORY_FAULT_INFO"
            case .vmTypes: "KVM_CAP_VM_TYPES"
            case .exitHypercall: "KVM_CAP_EXIT_HYPERCALL"
            case .userSpaceMSR: "KVM_CAP_X86_USER_SPACE_MSR"
            case .syncRegs: "KVM_CAP_SYNC_REGS"
            case .hardwareBreakpoints: "KVM_GUESTDBG_USE_HW_BP"
            case .disableQuirks2: "KVM_CAP_DISABLE_QUIRKS2"
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownProfile(String)
        case unknownCapability(String)

        public var description: String {
            switch self {
            case .unknownProfile(let name):
                "unknown host profile '\(name)': choose host or one of \(HostProfile.named.compactMap(\.kernel).joined(separator: ", "))"
            case .unknownCapability(let name):
                "unknown capability '\(name)' to mask: choose from \(Capability.allCases.map(\.rawValue).joined(separator: ", "))"
            }
        }
    }

    /// The named kernel profile this starts from, nil for this host as it is.
    public let kernel: String?
    /// Capabilities masked beyond the kernel profile's own (`--mask`).
    public let extra: Set<Capability>
    /// Everything it takes away from the probe's answers.
    public var masked: Set<Capability> { kernelMasks.union(extra) }
    private let kernelMasks: Set<Capability>

    init(kernel: String?, masking kernelMasks: Set<Capability>, extra: Set<Capability> = []) {
        self.kernel = kernel
        self.kernelMasks = kernelMasks
        self.extra = extra
    }

    /// "host", a kernel's name, or either followed by what else is masked.
    public var name: String {
        let extras = extra.subtracting(kernelMasks).sorted().map(\.rawValue)
        return (kernel ?? "host") + (extras.isEmpty ? "" : " without " + extras.joined(separator: ", "))
    }

    public var description: String {
        masked.isEmpty ? name : "\(name) (masked: \(masked.sorted().map(\.rawValue).joined(separator: ", ")))"
    }

    /// The `--host-profile` / `--mask` words that ask for this profile again.
    public var arguments: [String] {
        (kernel.map { ["--host-profile", $0] } ?? []) + extra.subtracting(kernelMasks).sorted().flatMap { ["--mask", $0.rawValue] }
    }

    /// This host as it is.
    public static let host = HostProfile(kernel: nil, masking: [])

    /// What a default x86 VM gets from each kernel our users run, as far as the probe reads
    /// it: each mask is a capability that kernel lacks (docs/host-support.md has the table and
    /// the kernel commit behind every line).
    public static let named: [HostProfile] = [
        HostProfile(
            kernel: "linux-5.15",
            masking: [
                .guestMemfd, .guestMemfdFlags, .userMemory2, .memoryAttributes,
                .memoryFaultInfo, .vmTypes, .disableQuirks2,
            ]),
        HostProfile(
            kernel: "linux-6.1",
            masking: [
                .guestMemfd, .guestMemfdFlags, .userMemory2, .memoryAttributes,
                .memoryFaultInfo, .vmTypes,
            ]),
        HostProfile(kernel: "linux-6.8", masking: [.guestMemfd, .guestMemfdFlags, .memoryAttributes]),
        HostProfile(kernel: "linux-6.18", masking: []),
    ]

    /// A named profile (nil or "host": this host), with `extra` capabilities masked too.
    public static func resolve(name: String?, masking extra: [String]) throws(Failure) -> HostProfile {
        var masked = Set<Capability>()
        for item in extra.flatMap({ $0.split(separator: ",") }) {
            let word = item.trimmingCharacters(in: .whitespaces)
            guard !word.isEmpty else { continue }
            guard let capability = Capability(rawValue: word) else { throw .unknownCapability(String(word)) }
            masked.insert(capability)
        }
        guard let name, !name.isEmpty, name != "host" else { return HostProfile(kernel: nil, masking: [], extra: masked) }
        guard let known = named.first(where: { $0.kernel == name }) else { throw .unknownProfile(name) }
        return HostProfile(kernel: name, masking: known.kernelMasks, extra: masked)
    }

    /// The profile the environment asks for: ENLIGHTEN_HOST_PROFILE (a name) and
    /// ENLIGHTEN_MASK (capabilities, comma separated).
    public static func fromEnvironment(_ environment: [String: String]) throws(Failure) -> HostProfile {
        try resolve(name: environment["ENLIGHTEN_HOST_PROFILE"], masking: environment["ENLIGHTEN_MASK"].map { [$0] } ?? [])
    }

    /// `capabilities` less what this profile masks.
    public func apply(to capabilities: HostCapabilities) -> HostCapabilities {
        var caps = capabilities
        for capability in masked {
            switch capability {
            case .guestMemfd: caps.guestMemfd = false
            case .guestMemfdFlags: caps.guestMemfdFlags = []
            case .userMemory2: caps.userMemory2 = false
            case .memoryAttributes: caps.memoryAttributes = []
            case .memoryFaultInfo: caps.memoryFaultInfo = false
            case .vmTypes: caps.vmTypesMask = 0
            case .exitHypercall: caps.exitHypercallMask = 0
            case .userSpaceMSR: caps.userSpaceMSR = false; caps.msrFilter = false
            case .syncRegs: caps.syncRegs = []
            case .hardwareBreakpoints: caps.guestDebug.remove(.useHardwareBreakpoints)
            case .disableQuirks2: caps.disableQuirks2 = []
            }
        }
        return caps
    }
}
