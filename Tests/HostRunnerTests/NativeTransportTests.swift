import CKVM
import GuestPhysical
import Payload
import XCTest

@testable import HostRunner
@testable import KVM

/// The native transport: a KVM_EXIT_HYPERCALL as KVM leaves it in kvm_run (filled by hand at
/// the documented offsets, since this host's backend never delivers one) is decoded by the KVM
/// module's exit view and served by the host exactly as the vCPU loop serves it — through a
/// real conversion service over a real guest_memfd — and the answer lands in `ret` the way
/// KVM's `complete_hypercall_exit` expects it (docs/abi.md §1.3).
final class NativeTransportTests: XCTestCase {
    private var raw: UnsafeMutableRawPointer!

    override func setUp() {
        raw = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        _ = raw.bindMemory(to: kvm_run.self, capacity: 1)
    }

    override func tearDown() { raw.deallocate() }

    // kvm_run offsets (docs/abi.md §1.3): exit_reason 8, hypercall.nr 32, args 40.., ret 88,
    // flags 96.
    private static let exitReasonOffset = 8, nrOffset = 32, argsOffset = 40, retOffset = 88, flagsOffset = 96
    private static let longMode: UInt64 = 1 // KVM_EXIT_HYPERCALL_LONG_MODE
    private static let encrypted: UInt64 = 0x10 // KVM_MAP_GPA_RANGE_ENCRYPTED
    private static let pageSize2M: UInt64 = 1 // KVM_MAP_GPA_RANGE_PAGE_SZ_2M
    private static let einval: UInt64 = 0xFFFF_FFFF_FFFF_FFEA, efault: UInt64 = 0xFFFF_FFFF_FFFF_FFF2
    private static let enosys: UInt64 = 0xFFFF_FFFF_FFFF_FC18
    private static let ram = GPARange(start: 0, end: 4 << 20)

    private var ret: UInt64 { raw.load(fromByteOffset: Self.retOffset, as: UInt64.self) }

    /// Fills kvm_run as KVM does for KVM_EXIT_HYPERCALL (exit reason 3), except that `ret` is
    /// poisoned rather than pre-set to 0, so an answer the host forgets to write shows.
    private func hypercall(nr: UInt64 = 12, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, flags: UInt64 = longMode) -> HypercallExit? {
        raw.storeBytes(of: UInt32(3), toByteOffset: Self.exitReasonOffset, as: UInt32.self)
        raw.storeBytes(of: nr, toByteOffset: Self.nrOffset, as: UInt64.self)
        for (index, value) in [a0, a1, a2, 0, 0, 0].enumerated() {
            raw.storeBytes(of: value, toByteOffset: Self.argsOffset + 8 * index, as: UInt64.self)
        }
        raw.storeBytes(of: 0x5A5A_5A5A_5A5A_5A5A as UInt64, toByteOffset: Self.retOffset, as: UInt64.self)
        raw.storeBytes(of: flags, toByteOffset: Self.flagsOffset, as: UInt64.self)
        guard case .hypercall(let call) = VCPUExit.decode(raw.assumingMemoryBound(to: kvm_run.self)) else {
            XCTFail("a KVM_EXIT_HYPERCALL kvm_run did not decode as a hypercall")
            return nil
        }
        return call
    }

    private func r(_ start: UInt64, _ end: UInt64) -> GPARange { GPARange(start: start, end: end) }

    // MARK: decoding

    func testLongModeFlagIsBitZeroOfFlags() throws {
        XCTAssertEqual(hypercall(0x1000, 1, 0, flags: 1)?.isLongMode, true)
        XCTAssertEqual(hypercall(0x1000, 1, 0, flags: 0)?.isLongMode, false)
        XCTAssertEqual(hypercall(0x1000, 1, 0, flags: 2)?.isLongMode, false)
        let call = try XCTUnwrap(hypercall(nr: 12, 0x12_3000, 7, 0x11, flags: 1))
        XCTAssertEqual([call.nr, call.argument(0), call.argument(1), call.argument(2)], [12, 0x12_3000, 7, 0x11])
    }

    // MARK: serving

    func testToSharedAndBackConvertsDiscardsAndAnswersZeroInRet() throws {
        var host = try ServiceFixture.make(ram: Self.ram)
        let range = r(0x10_0000, 0x10_2000), neighbour = r(0x10_2000, 0x10_3000)
        host.fill(range, with: 0xAB)
        host.fill(neighbour, with: 0xCD)

        host.serve(try XCTUnwrap(hypercall(0x10_0000, 2, 0))) // DECRYPTED | PAGE_SZ_4K: shared
        XCTAssertEqual(ret, 0)
        XCTAssertEqual(host.service.pageStates.states(in: range), [.init(range: range, state: .shared)])
        XCTAssertEqual(host.service.pageStates.state(at: neighbour.start), .private)
        XCTAssertEqual(host.bytes(range), [UInt8](repeating: 0, count: Int(range.size)), "the private content must be gone")
        XCTAssertEqual(host.bytes(neighbour), [UInt8](repeating: 0xCD, count: Int(neighbour.size)), "only the requested pages flip")

        host.fill(range, with: 0x11)
        host.serve(try XCTUnwrap(hypercall(0x10_0000, 2, Self.encrypted)))
        XCTAssertEqual(ret, 0)
        XCTAssertEqual(host.service.pageStates.state(at: range.start), .private)
        XCTAssertEqual(host.bytes(range), [UInt8](repeating: 0, count: Int(range.size)), "the shared content must be gone")

        XCTAssertEqual(host.rejections, [])
        XCTAssertEqual(host.conversions.map(\.transport), [.native, .native])
        XCTAssertEqual(host.conversions.map(\.interface), [.kvm, .kvm])
        XCTAssertEqual(host.conversions.map(\.form), [.request(.kvmHypercall), .request(.kvmHypercall)])
        XCTAssertEqual(host.conversions.map(\.range), [range, range])
        XCTAssertEqual(host.conversions.map(\.direction), [.shared, .private])
        XCTAssertEqual(host.conversions.map(\.pageSize), [0x1000, 0x1000])
        XCTAssertEqual(host.conversions.map(\.outcome), [.converted, .converted])
        XCTAssertEqual(host.conversions.map(\.flipped), [[range], [range]])
    }

    func testAlreadyPrivateIsIdempotentAndDiscardsNothing() throws {
        var host = try ServiceFixture.make(ram: Self.ram)
        let range = r(0x20_0000, 0x20_1000)
        host.fill(range, with: 0x77)
        host.serve(try XCTUnwrap(hypercall(range.start, 1, Self.encrypted)))
        XCTAssertEqual(ret, 0)
        XCTAssertEqual(host.conversions.map(\.flipped), [[]])
        XCTAssertEqual(host.conversions.map(\.unchanged), [[range]])
        XCTAssertEqual(host.bytes(range), [UInt8](repeating: 0x77, count: 0x1000), "nothing flipped, nothing discarded")
    }

    func testKVMErrorsAreWrittenToRetAndNothingConverts() throws {
        var host = try ServiceFixture.make(ram: Self.ram)
        let before = host.service.pageStates
        let cases: [(what: String, nr: UInt64, a0: UInt64, a1: UInt64, a2: UInt64, ret: UInt64)] = [
            ("unaligned gpa", 12, 0x10_0800, 1, Self.encrypted, Self.einval),
            ("npages 0", 12, 0x10_0000, 0, Self.encrypted, Self.einval),
            ("gfn + npages wraps", 12, 0x10_0000, .max, Self.encrypted, Self.einval),
            ("unknown hypercall", 13, 0x10_0000, 1, Self.encrypted, Self.enosys),
        ]
        for item in cases {
            host.serve(try XCTUnwrap(hypercall(nr: item.nr, item.a0, item.a1, item.a2)))
            XCTAssertEqual(ret, item.ret, "\(item.what): rax = \(hex(ret))")
        }
        XCTAssertEqual(host.rejections.count, cases.count)
        XCTAssertTrue(host.rejections.allSatisfy { $0.transport == .native && $0.interface == .kvm })
        XCTAssertEqual(host.conversions, [])

        // Valid arguments for a range no memslot covers: KVM leaves the answer to the VMM; the
        // runner's is -KVM_EFAULT, with the attempt in the log and nothing converted.
        host.serve(try XCTUnwrap(hypercall(0x1_0000_0000, 1, 0)))
        XCTAssertEqual(ret, Self.efault)
        XCTAssertEqual(host.conversions.map(\.outcome), [.outsideGuestMemory])
        XCTAssertEqual(host.conversions.map(\.flipped), [[]])
        XCTAssertEqual(host.service.pageStates, before)
    }

    /// Outside 64-bit mode KVM masks nr and the arguments to 32 bits and truncates `ret` to
    /// 32 bits (`____kvm_emulate_hypercall`, `complete_hypercall_exit`).
    func testOutsideLongModeArgumentsAndRetAre32Bits() throws {
        var host = try ServiceFixture.make(ram: Self.ram)
        host.serve(try XCTUnwrap(hypercall(nr: 0xFFFF_FFFF_0000_000C, 0xFFFF_FFFF_0010_0000, 0x1_0000_0001, 0x1_0000_0000, flags: 0)))
        XCTAssertEqual(ret, 0)
        XCTAssertEqual(host.conversions.map(\.range), [r(0x10_0000, 0x10_1000)])
        XCTAssertEqual(host.conversions.map(\.direction), [.shared])

        host.serve(try XCTUnwrap(hypercall(0x10_0000, 0x1_0000_0000, Self.encrypted, flags: 0))) // npages masks to 0
        XCTAssertEqual(ret, 0xFFFF_FFEA, "-KVM_EINVAL truncated to 32 bits")
    }

    /// On SNP and TDX hardware KVM turns PSC and MapGPA into this same exit; the shapes it
    /// gives (docs/abi.md §2.5, §3.5) are served like any other.
    func testExitsShapedAsKVMMakesThemForPSCAndMapGPA() throws {
        var host = try ServiceFixture.make(ram: Self.ram)
        let frame = r(0x20_0000, 0x40_0000)
        // A PSC run of one 2 MiB entry going shared: gfn << 12, 512 pages, DECRYPTED | PAGE_SZ_2M.
        host.serve(try XCTUnwrap(hypercall(frame.start, 512, Self.pageSize2M)))
        XCTAssertEqual(ret, 0)
        // A MapGPA chunk going private: gpa without the shared bit, size / 4 KiB, ENCRYPTED only.
        host.serve(try XCTUnwrap(hypercall(frame.start, 512, Self.encrypted)))
        XCTAssertEqual(ret, 0)
        // An MSR-protocol PSC: one page.
        host.serve(try XCTUnwrap(hypercall(0x30_0000, 1, 0)))
        XCTAssertEqual(ret, 0)
        XCTAssertEqual(host.conversions.map(\.range), [frame, frame, r(0x30_0000, 0x30_1000)])
        XCTAssertEqual(host.conversions.map(\.direction), [.shared, .private, .shared])
        XCTAssertEqual(host.conversions.map(\.pageSize), [0x20_0000, 0x1000, 0x1000])
        XCTAssertEqual(host.conversions.map(\.transport), [.native, .native, .native])
        XCTAssertEqual(host.service.pageStates.states(in: frame).map(\.state), [.private, .shared, .private])
    }

    // MARK: choosing the transport

    /// This machine kind's capabilities (docs/host-findings.md §1).
    private static let pvmHost = HostCapabilities(
        apiVersion: 12, vmTypesMask: 1, guestMemfd: true, guestMemfdFlags: [.mmap, .initShared], memoryAttributes: [],
        exitHypercallMask: 1 << 12, userSpaceMSR: true, msrFilter: true,
        guestDebug: GuestDebugControl(rawValue: 0x1F_0003), syncRegs: [.registers, .specialRegisters, .events],
        disableQuirks2: Quirks(rawValue: 0x5FF), userMemory2: true, memoryFaultInfo: true, preFaultMemory: false)

    func testProbeChoosesNativeOnlyWhereKVMDeliversTheExit() {
        var trapOnly = HostProbe(capabilities: Self.pvmHost, nativeHypercall: [:], nativeHypercallDelivered: false)
        XCTAssertEqual(trapOnly.transports, [.kvm: .trap, .sevSNP: .trap, .tdx: .trap])

        let delivered = HostProbe(capabilities: Self.pvmHost, nativeHypercall: [:], nativeHypercallDelivered: true)
        XCTAssertEqual(delivered.transports, [.kvm: .native, .sevSNP: .trap, .tdx: .trap])

        // SNP/TDX hardware alone does not make GHCB or MapGPA native: KVM converts them into
        // hypercall exits only inside SNP/TDX VMs, and the runner creates default VMs.
        var snp = Self.pvmHost
        snp.vmTypesMask |= 1 << 4
        XCTAssertEqual(HostProbe(capabilities: snp, nativeHypercall: [:], nativeHypercallDelivered: false).transports[.sevSNP], .trap)
        var tdx = Self.pvmHost
        tdx.vmTypesMask |= 1 << 5
        XCTAssertEqual(HostProbe(capabilities: tdx, nativeHypercall: [:], nativeHypercallDelivered: false).transports[.tdx], .trap)

        var blind = Self.pvmHost
        blind.guestDebug = []
        trapOnly = HostProbe(capabilities: blind, nativeHypercall: [:], nativeHypercallDelivered: false)
        XCTAssertEqual(trapOnly.transports, [.kvm: .unavailable, .sevSNP: .unavailable, .tdx: .unavailable])
        var noMSRExits = Self.pvmHost
        noMSRExits.userSpaceMSR = false
        XCTAssertEqual(
            HostProbe(capabilities: noMSRExits, nativeHypercall: [:], nativeHypercallDelivered: false).transports,
            [.kvm: .trap, .sevSNP: .unavailable, .tdx: .trap])
    }

    /// `--transport native` is honoured for KVM (the exit is enabled and nothing is trapped) and
    /// refused, by name, for an interface only SNP/TDX hardware can carry natively.
    func testForcedNativeTransportOnThisHost() throws {
        try requireKVM()
        let system = try KVMSystem()
        let capabilities = try system.probe()
        let probe = HostProbe(capabilities: capabilities, nativeHypercall: [:], nativeHypercallDelivered: true)
        let root = try ProjectRoot.locate()
        let image = try ImageBuilder(toolchain: try Toolchain.locate(), root: root).build(try StubSource.resolve("roundtrip", root: root), layout: .direct64)
        var options = RunOptions()
        options.transport = .native
        options.platform = .kvm
        XCTAssertEqual(try Machine(image: image, options: options, system: system, probe: probe).transports[.kvm], .native)
        // Where the probe saw the guest's hypercall never arrive, forcing native is refused
        // up front with the probe's words, not run into a guest #UD.
        let undelivered = HostProbe(
            capabilities: capabilities, nativeHypercall: ["vmcall": "vmcall raised an exception (the vCPU shut down)"],
            nativeHypercallDelivered: false)
        XCTAssertThrowsError(try Machine(image: image, options: options, system: system, probe: undelivered)) { error in
            XCTAssertTrue("\(error)".contains("--transport native") && "\(error)".contains("vmcall raised an exception"), "\(error)")
        }

        for (platform, hardware) in [(ConversionPlatform.sevSNP, "SEV-SNP"), (.tdx, "TDX")] where probe.transports[platform] != .native {
            options.platform = platform
            XCTAssertThrowsError(try Machine(image: image, options: options, system: system, probe: probe)) { error in
                XCTAssertTrue("\(error)".contains(hardware), "\(error)")
            }
        }
    }
}

/// A real conversion service over a real guest_memfd, and the events the host side logs.
struct ServiceFixture {
    let vm: VirtualMachine
    let mapping: GuestMapping
    let service: ConversionService
    var events: [RunEvent] = []

    func bytes(_ range: GPARange) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: mapping.base + Int(range.start), count: Int(range.size)))
    }

    func fill(_ range: GPARange, with byte: UInt8) {
        (mapping.base + Int(range.start)).initializeMemory(as: UInt8.self, repeating: byte, count: Int(range.size))
    }

    /// What the vCPU loop does with a hypercall exit.
    mutating func serve(_ call: HypercallExit) {
        call.ret = KVMHypercallHost.serve(
            nr: call.nr, a0: call.argument(0), a1: call.argument(1), a2: call.argument(2), longMode: call.isLongMode, cpl: 0,
            transport: .native, service: service, vcpu: 0, events: &events)
    }

    var conversions: [ConversionRecord] { events.compactMap { if case .conversion(_, let record) = $0 { record } else { nil } } }
    var rejections: [RejectedRequest] { events.compactMap { if case .rejected(_, let request) = $0 { request } else { nil } } }

    /// Guest RAM `ram` as the runner builds it for KVM and SNP guests: one file for both
    /// states (guest_memfd with MMAP | INIT_SHARED, or the memfd stand-in: the backing this
    /// host's probe chose, as a run's), bound as memslot 0, starting private. Needs /dev/kvm
    /// (printed skip without).
    static func make(ram: GPARange) throws -> ServiceFixture {
        try requireKVM("a conversion service needs a VM")
        let system = try KVMSystem()
        let vm = try system.createVM(type: .default)
        let mapping = try HostProbe.once(system: system).ramBacking.slot(vm: vm, slot: 0, range: ram, name: "fixture")
        var initial = PageStateMap()
        initial.set(ram, to: .private)
        return ServiceFixture(
            vm: vm, mapping: mapping,
            service: try ConversionService(initial: initial, ram: ram, backing: .unified(mapping.file), memoryAttributes: nil))
    }
}
