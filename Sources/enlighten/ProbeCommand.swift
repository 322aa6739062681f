import ArgumentParser
import Foundation
import HostRunner
import KVM

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what this host's KVM offers and what Enlighten will use.",
        discussion: """
            Asks /dev/kvm for every capability the runner chooses strategies from (VM types, \
            guest_memfd flags, memory attributes, hypercall exits, user-space MSRs, guest debug, \
            sync regs, SNP/TDX), runs a tiny guest to see whether a hypercall really reaches \
            user space, and prints the VM type, population strategy and transport per interface.

            Exit 0 when the host can run guests, 3 when it cannot (no /dev/kvm, no permission).
            """)

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let probe: HostProbe
        do {
            probe = try HostProbe.run(system: try RunError.openSystem())
        } catch let error as RunError {
            if json { try printJSON(["kvm": false]) }
            throw fail(error, .hostUnavailable)
        }
        let report = ProbeReport(probe)
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
    let vmType: String
    let population: String
    let transports: [String: String]

    init(_ probe: HostProbe) {
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
        vmType = probe.vmType.description
        population = probe.population.rawValue
        transports = Dictionary(uniqueKeysWithValues: probe.transports.map { ($0.key.rawValue, $0.value.rawValue) })
    }

    func printHuman() {
        let rows: [(String, String)] = [
            ("kernel", kernel),
            ("VM types", vmTypes.joined(separator: ", ")),
            ("guest_memfd", guestMemfd ? "yes, flags " + (guestMemfdFlags.isEmpty ? "none" : guestMemfdFlags.joined(separator: "|")) : "no"),
            ("memory attributes", memoryAttributes ? "PRIVATE" : "none (the runner keeps page states itself)"),
            ("hypercall exit", "advertised \(exitHypercall); delivered: \(nativeHypercallDelivered ? "yes" : "no")"),
            ("user-space MSRs", userSpaceMSR ? "yes" : "no"),
            ("guest debug", "\(guestDebug)\(hardwareBreakpoints ? " (hardware breakpoints)" : "")"),
            ("sync regs", syncRegs.isEmpty ? "none" : syncRegs.joined(separator: ", ")),
            ("SEV-SNP / TDX", "\(snp ? "SNP" : "no SNP"), \(tdx ? "TDX" : "no TDX")"),
        ]
        print("Host")
        for (key, value) in rows { print("  \(key.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value)") }
        for (instruction, detail) in nativeHypercall.sorted(by: { $0.key < $1.key }) { print("  \("".padding(toLength: 18, withPad: " ", startingAt: 0)) \(instruction): \(detail)") }
        print("Enlighten will use")
        print("  VM type            \(vmType)")
        print("  population         \(population)")
        for platform in ConversionPlatform.allCases {
            print("  \(platform.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(transports[platform.rawValue] ?? "unavailable")")
        }
    }
}
