import ArgumentParser
import Foundation
import HostRunner
import KVM
import Payload

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what this host's KVM offers and what Enlighten will use.",
        discussion: """
            Asks /dev/kvm for every capability the runner chooses strategies from (VM types, \
            guest_memfd and its flags, memslots v2, memory attributes, hypercall exits, \
            user-space MSRs, guest debug, sync regs, SNP/TDX), runs a tiny guest to see whether \
            a hypercall really reaches user space, makes a guest_memfd memslot on a default VM \
            where the capabilities promise one, and prints what Enlighten will use: the VM type, \
            where guest RAM lives and why, and the transport per interface.

            Guest RAM ("backing") is guest_memfd (KVM_CREATE_GUEST_MEMFD with MMAP|INIT_SHARED, \
            bound with KVM_SET_USER_MEMORY_REGION2) where a default VM can have it (Linux 6.18 \
            and later), else a memfd behind a plain memslot (KVM_SET_USER_MEMORY_REGION2, or \
            KVM_SET_USER_MEMORY_REGION before Linux 6.8). The runner keeps every page state \
            itself either way, so guests meet the same answers and faults on both; every run \
            and report records which backing served. --backing memfd forces the stand-in; \
            --backing guest_memfd where there is none is a usage error.

            --host-profile shows this host as an older kernel would leave it (linux-5.15, \
            linux-6.1, linux-6.8, linux-6.18), --mask takes single capabilities away; run and \
            conformance take the same options (and ENLIGHTEN_HOST_PROFILE / ENLIGHTEN_MASK), so \
            the suite can be run here as on those kernels. docs/host-support.md has the table.

            Exit 0 when the host can run guests, 2 on a usage error, 3 when it cannot run guests \
            (no /dev/kvm, no permission).

            Examples:
              enlighten probe
              enlighten probe --host-profile linux-6.1 --json
              enlighten probe --mask user_space_msr
            """)

    @OptionGroup(title: "Host") var host: HostOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let handle: KVMSystemHandle
        do {
            handle = try KVMSystemHandle.open(host)
        } catch let error as RunError {
            if json { try printJSON(["kvm": false]) }
            throw fail(error, .hostUnavailable)
        }
        let report = ProbeReport(
            handle.probe, backing: handle.backing, firmwareRequests: RequestInstructionCheck.run(system: handle.system))
        if json { try printJSON(report) } else { report.printHuman() }
    }
}

struct ProbeReport: Encodable {
    let kvm = true
    let kernel: String
    let apiVersion: Int32
    let vmTypes: [String]
    let guestMemfd: Bool
    let guestMemfdFlags: [String]
    let memoryAttributes: Bool
    let exitHypercall: String
    let nativeHypercallDelivered: Bool
    let nativeHypercall: [String: String]
    let userSpaceMSR: Bool
    let msrFilter: Bool
    let guestDebug: String
    let hardwareBreakpoints: Bool
    let syncRegs: [String]
    let disableQuirks2: String
    let memoryFaultInfo: Bool
    let preFaultMemory: Bool
    let snp: Bool
    let tdx: Bool
    let userMemory2: Bool
    let profile: String
    let masked: [String]
    let vmType: String
    let backing: String
    let backingReason: String
    let memslot: String
    let population: String
    /// Why SEV-SNP/TDX private memory cannot be enforced here, or nil.
    let enforcementUnavailable: String?
    let transports: [String: String]
    /// What each request instruction of a confidential guest does in a plain VM here, and so
    /// how a firmware run serves it (docs/firmware.md).
    let firmwareRequests: [String: String]

    init(_ probe: HostProbe, backing chosen: RAMBacking, firmwareRequests outcomes: [RequestInstruction: RequestInstructionCheck.Outcome]) {
        let caps = probe.capabilities
        var name = utsname()
        uname(&name)
        kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        apiVersion = caps.apiVersion
        vmTypes = caps.vmTypes.map(\.description)
        guestMemfd = caps.guestMemfd
        guestMemfdFlags = [(GuestMemfdFlags.mmap, "MMAP"), (.initShared, "INIT_SHARED")].filter { caps.guestMemfdFlags.contains($0.0) }.map(\.1)
        memoryAttributes = caps.memoryAttributes.contains(.private)
        exitHypercall = "0x" + String(caps.exitHypercallMask, radix: 16)
        nativeHypercallDelivered = probe.nativeHypercallDelivered
        nativeHypercall = probe.nativeHypercall
        userSpaceMSR = caps.userSpaceMSR
        msrFilter = caps.msrFilter
        guestDebug = "0x" + String(caps.guestDebug.rawValue, radix: 16)
        hardwareBreakpoints = caps.guestDebug.contains(.useHardwareBreakpoints)
        syncRegs = [(SyncRegisterSet.registers, "regs"), (.specialRegisters, "sregs"), (.events, "events")].filter { caps.syncRegs.contains($0.0) }.map(\.1)
        disableQuirks2 = "0x" + String(caps.disableQuirks2.rawValue, radix: 16)
        memoryFaultInfo = caps.memoryFaultInfo
        preFaultMemory = caps.preFaultMemory
        snp = caps.snp
        tdx = caps.tdx
        userMemory2 = caps.userMemory2
        profile = probe.profile.name
        masked = probe.profile.masked.sorted().map(\.rawValue)
        vmType = probe.vmType.description
        backing = chosen.kind.rawValue
        backingReason = chosen.reason
        memslot = chosen.memslotCall.rawValue
        enforcementUnavailable = probe.cannotEnforce(.sevSNP).map { _ in probe.viewsFailure ?? "" }
        population = chosen.kind == .guestMemfd ? HostProbe.PopulationStrategy.guestMemfdMmap.rawValue : HostProbe.PopulationStrategy.memfdMmap.rawValue
        transports = Dictionary(uniqueKeysWithValues: probe.transports.map { ($0.key.rawValue, $0.value.rawValue) })
        firmwareRequests = Dictionary(
            uniqueKeysWithValues: outcomes.map { instruction, outcome in
                (instruction.rawValue, outcome == .exitsAtInstruction ? "served where it exits" : "a breakpoint on each flash site (\(outcome.rawValue))")
            })
    }

    func printHuman() {
        let rows: [(String, String)] = [
            ("kernel", kernel),
            ("VM types", vmTypes.joined(separator: ", ")),
            ("guest_memfd", guestMemfd ? "yes, flags " + (guestMemfdFlags.isEmpty ? "none" : guestMemfdFlags.joined(separator: "|")) : "no"),
            ("memslots v2", userMemory2 ? "yes (KVM_SET_USER_MEMORY_REGION2)" : "no"),
            ("memory attributes", memoryAttributes ? "PRIVATE" : "none (the runner keeps page states itself)"),
            ("hypercall exit", "advertised \(exitHypercall); delivered: \(nativeHypercallDelivered ? "yes" : "no")"),
            ("user-space MSRs", userSpaceMSR ? "yes" : "no"),
            ("guest debug", "\(guestDebug)\(hardwareBreakpoints ? " (hardware breakpoints)" : "")"),
            ("sync regs", syncRegs.isEmpty ? "none" : syncRegs.joined(separator: ", ")),
            ("SEV-SNP / TDX", "\(snp ? "SNP" : "no SNP"), \(tdx ? "TDX" : "no TDX")"),
        ]
        print("Host" + (masked.isEmpty ? "" : ", as \(profile) leaves it (masked: \(masked.joined(separator: ", ")))"))
        for (key, value) in rows { print("  \(key.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value)") }
        for (instruction, detail) in nativeHypercall.sorted(by: { $0.key < $1.key }) {
            print("  \("".padding(toLength: 18, withPad: " ", startingAt: 0)) \(instruction): \(detail)")
        }
        print("Enlighten will use")
        print("  VM type            \(vmType)")
        print("  guest RAM          \(backing) via \(memslot)")
        print("                     \(backingReason)")
        print("  population         \(population), then private in the runner's page-state model")
        print(
            "  private memory     "
                + (enforcementUnavailable.map { "NOT enforceable for SEV-SNP/TDX runs: \($0)" }
                    ?? (memoryAttributes ? "KVM_SET_MEMORY_ATTRIBUTES" : "the runner's views (a closed page exits to the runner)")))
        for platform in ConversionPlatform.allCases {
            print("  \(platform.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(transports[platform.rawValue] ?? "unavailable")")
        }
        print("  firmware requests  (requests at any address in a firmware volume, docs/firmware.md)")
        for (instruction, how) in firmwareRequests.sorted(by: { $0.key < $1.key }) {
            print("    \(instruction.padding(toLength: 16, withPad: " ", startingAt: 0)) \(how)")
        }
    }
}
