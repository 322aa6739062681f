import Foundation
import XCTest

@testable import HostRunner
@testable import KVM

/// The host profiles and the RAM backing the probe chooses from them: pure, no /dev/kvm.
final class HostProfileTests: XCTestCase {
    /// A 6.18 host with everything (what the project's machines had before 2026-12-07).
    private static let full = HostCapabilities(
        apiVersion: 12, vmTypesMask: 1, guestMemfd: true, guestMemfdFlags: [.mmap, .initShared], memoryAttributes: [],
        exitHypercallMask: 1 << 12, userSpaceMSR: true, msrFilter: true,
        guestDebug: GuestDebugControl(rawValue: 0x1F_0003), syncRegs: [.registers, .specialRegisters, .events],
        disableQuirks2: Quirks(rawValue: 0x5FF), userMemory2: true, memoryFaultInfo: true, preFaultMemory: false)

    private func probe(_ capabilities: HostCapabilities, profile: HostProfile = .host, failure: String? = nil) -> HostProbe {
        HostProbe(
            capabilities: profile.apply(to: capabilities), nativeHypercall: [:], nativeHypercallDelivered: false,
            profile: profile, guestMemfdFailure: failure)
    }

    private func named(_ name: String) throws -> HostProfile { try HostProfile.resolve(name: name, masking: []) }

    func testGuestMemfdIsChosenOnlyWhereADefaultVMCanHaveIt() throws {
        let full = probe(Self.full)
        XCTAssertEqual(full.ramBacking.kind, .guestMemfd)
        XCTAssertEqual(full.ramBacking.memslotCall, .region2)
        XCTAssertEqual(full.population, .guestMemfdMmap)

        var noMemfd = Self.full
        noMemfd.guestMemfd = false
        noMemfd.guestMemfdFlags = []
        XCTAssertEqual(
            probe(noMemfd).ramBacking,
            RAMBacking(
                kind: .memfd, memslotCall: .region2,
                reason: "no guest_memfd for a default VM (KVM_CAP_GUEST_MEMFD is 0)"))
        XCTAssertEqual(probe(noMemfd).population, .memfdMmap)

        var noFlags = Self.full
        noFlags.guestMemfdFlags = [.mmap]
        XCTAssertEqual(probe(noFlags).ramBacking.kind, .memfd)
        XCTAssertTrue(probe(noFlags).ramBacking.reason.contains("INIT_SHARED"), probe(noFlags).ramBacking.reason)

        // The capabilities promise it, but the kernel refused the memslot (Linux 6.8-6.17).
        let refused = probe(Self.full, failure: "a default VM refused a guest_memfd memslot: KVM_SET_USER_MEMORY_REGION2 failed: errno 22 (EINVAL)")
        XCTAssertEqual(refused.ramBacking.kind, .memfd)
        XCTAssertTrue(refused.ramBacking.reason.contains("EINVAL"))

        var old = noMemfd
        old.userMemory2 = false
        XCTAssertEqual(probe(old).ramBacking.memslotCall, .region)
    }

    func testAskingForABackingIsHonouredOrRefusedByName() throws {
        let full = probe(Self.full)
        XCTAssertEqual(try full.backing(requested: nil).kind, .guestMemfd)
        XCTAssertEqual(try full.backing(requested: .guestMemfd).kind, .guestMemfd)
        let forced = try full.backing(requested: .memfd)
        XCTAssertEqual(forced.kind, .memfd)
        XCTAssertEqual(forced.memslotCall, .region2)
        XCTAssertTrue(forced.reason.contains("asked for"))

        let sixOne = probe(Self.full, profile: try named("linux-6.1"))
        XCTAssertEqual(try sixOne.backing(requested: .memfd).kind, .memfd)
        XCTAssertThrowsError(try sixOne.backing(requested: .guestMemfd)) { error in
            guard case .invalidOptions(let why) = error as? RunError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.hasPrefix("--backing guest_memfd: this host cannot give a default VM guest_memfd ("), why)
            XCTAssertTrue(why.contains("KVM_CAP_GUEST_MEMFD is 0"), why)
        }
    }

    /// Each kernel profile leaves what docs/host-support.md's table says that kernel has.
    func testKernelProfilesTakeAwayWhatThoseKernelsLack() throws {
        let fifteen = try named("linux-5.15").apply(to: Self.full)
        XCTAssertFalse(fifteen.guestMemfd)
        XCTAssertEqual(fifteen.guestMemfdFlags, [])
        XCTAssertFalse(fifteen.userMemory2)
        XCTAssertFalse(fifteen.memoryFaultInfo)
        XCTAssertEqual(fifteen.disableQuirks2, [], "KVM_CAP_DISABLE_QUIRKS2 arrived in 5.18")
        XCTAssertEqual(fifteen.vmTypesMask, 0)
        XCTAssertEqual(fifteen.exitHypercallMask, 1 << 12, "KVM_CAP_EXIT_HYPERCALL is 5.14")
        XCTAssertTrue(fifteen.userSpaceMSR)
        XCTAssertEqual(fifteen.syncRegs, Self.full.syncRegs)
        XCTAssertEqual(fifteen.guestDebug, Self.full.guestDebug)

        let sixOne = try named("linux-6.1").apply(to: Self.full)
        XCTAssertTrue(sixOne.disableQuirks2.contains(.fixHypercallInstruction), "FIX_HYPERCALL_INSN is 5.19")
        XCTAssertFalse(sixOne.userMemory2)
        XCTAssertFalse(sixOne.guestMemfd)

        let sixEight = try named("linux-6.8").apply(to: Self.full)
        XCTAssertTrue(sixEight.userMemory2)
        XCTAssertTrue(sixEight.memoryFaultInfo)
        XCTAssertFalse(sixEight.guestMemfd, "6.8 gives a default VM no guest_memfd memslot")
        XCTAssertEqual(sixEight.guestMemfdFlags, [])

        XCTAssertEqual(try named("linux-6.18").apply(to: Self.full), Self.full)
        XCTAssertEqual(HostProfile.host.apply(to: Self.full), Self.full)

        XCTAssertEqual(probe(Self.full, profile: try named("linux-5.15")).ramBacking.memslotCall, .region)
        XCTAssertEqual(
            probe(Self.full, profile: try named("linux-6.8")).ramBacking,
            RAMBacking(kind: .memfd, memslotCall: .region2, reason: "no guest_memfd for a default VM (KVM_CAP_GUEST_MEMFD is 0)"))
    }

    /// A profile only takes away: what the host lacks stays lacking under any profile.
    func testAProfileNeverGrants() throws {
        var bare = Self.full
        bare.guestMemfd = false
        bare.userSpaceMSR = false
        for profile in HostProfile.named {
            let caps = profile.apply(to: bare)
            XCTAssertFalse(caps.guestMemfd, profile.name)
            XCTAssertFalse(caps.userSpaceMSR, profile.name)
        }
    }

    func testMasksNameTheMissingCapabilityInTheTransportsTheyRemove() throws {
        let noMSR = probe(Self.full, profile: try HostProfile.resolve(name: nil, masking: ["user_space_msr"]))
        XCTAssertEqual(noMSR.transports, [.kvm: .trap, .sevSNP: .unavailable, .tdx: .trap])
        XCTAssertEqual(noMSR.missingForTrap(.sevSNP), "KVM_CAP_X86_USER_SPACE_MSR")
        XCTAssertNil(noMSR.missingForTrap(.kvm))
        let blind = probe(Self.full, profile: try HostProfile.resolve(name: "linux-6.8", masking: ["hardware_breakpoints,sync_regs"]))
        XCTAssertEqual(blind.transports, [.kvm: .unavailable, .sevSNP: .unavailable, .tdx: .unavailable])
        for platform in ConversionPlatform.allCases {
            XCTAssertEqual(blind.missingForTrap(platform), "KVM_GUESTDBG_USE_HW_BP (hardware breakpoints)")
        }
        XCTAssertEqual(blind.capabilities.syncRegs, [])
        let noExit = probe(Self.full, profile: try HostProfile.resolve(name: nil, masking: ["exit_hypercall"]))
        XCTAssertFalse(noExit.capabilities.mapGPARangeExit)
    }

    func testProfilesParseAndSayHowToAskForThemAgain() throws {
        XCTAssertEqual(try HostProfile.resolve(name: nil, masking: []), .host)
        XCTAssertEqual(try HostProfile.resolve(name: "host", masking: []).masked, [])
        let custom = try HostProfile.resolve(name: "linux-6.8", masking: ["sync_regs", " user_memory2 "])
        XCTAssertEqual(custom.kernel, "linux-6.8")
        XCTAssertTrue(custom.masked.isSuperset(of: [.syncRegs, .userMemory2, .guestMemfd]))
        XCTAssertEqual(custom.arguments, ["--host-profile", "linux-6.8", "--mask", "sync_regs", "--mask", "user_memory2"])
        XCTAssertEqual(custom.name, "linux-6.8 without sync_regs, user_memory2")
        XCTAssertEqual(try named("linux-6.1").arguments, ["--host-profile", "linux-6.1"])
        // A mask the kernel profile already has adds nothing to the name or the arguments.
        XCTAssertEqual(try HostProfile.resolve(name: "linux-6.1", masking: ["guest_memfd"]).arguments, ["--host-profile", "linux-6.1"])

        XCTAssertThrowsError(try HostProfile.resolve(name: "linux-4.19", masking: [])) { error in
            XCTAssertEqual("\(error)", "unknown host profile 'linux-4.19': choose host or one of linux-5.15, linux-6.1, linux-6.8, linux-6.18")
        }
        XCTAssertThrowsError(try HostProfile.resolve(name: nil, masking: ["guest-memfd"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown capability 'guest-memfd' to mask: choose from guest_memfd, "), "\(error)")
        }
        let environment = try HostProfile.fromEnvironment(["ENLIGHTEN_HOST_PROFILE": "linux-5.15", "ENLIGHTEN_MASK": "sync_regs"])
        XCTAssertEqual(environment.arguments, ["--host-profile", "linux-5.15", "--mask", "sync_regs"])
        XCTAssertEqual(try HostProfile.fromEnvironment([:]), .host)
    }

    /// SEV-SNP and TDX runs need private memory enforced: where neither KVM's memory
    /// attributes nor the runner's views can, they are refused by name, not run wrongly.
    func testPlatformsThatNeedEnforcementAreRefusedWhereTheViewsDoNotHold() {
        var probe = probe(Self.full)
        XCTAssertNil(probe.cannotEnforce(.sevSNP))
        probe.viewsFailure = "a guest read of a page whose memfd mapping is closed ended in KVM_EXIT_MEMORY_FAULT, not an MMIO exit"
        XCTAssertNil(probe.cannotEnforce(.kvm))
        XCTAssertNil(probe.cannotEnforce(nil))
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let why = probe.cannotEnforce(platform) ?? ""
            XCTAssertTrue(why.contains("no KVM_CAP_MEMORY_ATTRIBUTES") && why.contains("KVM_EXIT_MEMORY_FAULT"), why)
        }
        var attributes = Self.full
        attributes.memoryAttributes = [.private]
        var withAttributes = self.probe(attributes)
        withAttributes.viewsFailure = probe.viewsFailure
        XCTAssertNil(withAttributes.cannotEnforce(.tdx), "KVM enforces private memory itself there")
    }

    /// On this host, the memfd stand-in always binds, and whether its views hold is exactly
    /// what the probe records.
    func testTheBackingTrialAgreesWithTheProbe() throws {
        try requireKVM()
        let system = try KVMSystem()
        let memfd = RAMBacking(kind: .memfd, memslotCall: try system.check(.userMemory2) != 0 ? .region2 : .region, reason: "test")
        let outcome = BackingTrial.run(system: system, backing: memfd)
        if case .refused(let why) = outcome { XCTFail(why) }
        let probe = try HostProbe.run(system: system, profile: try HostProfile.resolve(name: nil, masking: ["guest_memfd"]))
        XCTAssertEqual(probe.viewsFailure == nil, outcome == .viewsHold, "\(outcome)")
    }
}
