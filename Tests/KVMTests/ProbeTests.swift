import Foundation
import XCTest

@testable import KVM

/// The probe must say what this host's kernel really does: hosts differ (some of this
/// project's own machines have guest_memfd, some not), so each answer is checked against the
/// kernel's behaviour, not against one machine's figures.
final class ProbeTests: XCTestCase {
    func testProbeAgreesWithWhatTheKernelDoes() throws {
        try requireKVM()
        let system = try KVMSystem.open()
        XCTAssertEqual(try system.apiVersion, 12)
        let caps = try system.probe()
        print("KVMTests probe: \(caps)")
        XCTAssertTrue(caps.vmTypes.contains(.default))
        // Each VM type the probe reports is one the kernel creates; the rest it refuses.
        for type in [VMType.default, .snp, .tdx] {
            let created = Result { try system.createVM(type: type) }
            XCTAssertEqual((try? created.get()) != nil, caps.vmTypes.contains(type), "VM type \(type)")
        }
        // guest_memfd: where the capability and the mmap flags are there, a default VM takes
        // one that maps and binds; where the capability is 0, KVM_CREATE_GUEST_MEMFD fails.
        let vm = try system.createVM()
        let made = Result { try vm.createGuestMemfd(size: 0x10000, flags: [.mmap, .initShared]) }
        if caps.guestMemfd && caps.guestMemfdFlags.isSuperset(of: [.mmap, .initShared]) {
            let memfd = try made.get()
            let mapping = try memfd.map()
            try vm.setUserMemoryRegion2(
                slot: 0, flags: .guestMemfd, guestPhysicalAddress: 0, size: 0x10000,
                userspaceAddress: mapping.userspaceAddress, guestMemfd: memfd)
        } else if !caps.guestMemfd {
            XCTAssertThrowsError(try made.get())
        }
        // Memslots v2 answer exactly where USER_MEMORY2 says so.
        let plain = try MemoryMapping(size: 0x10000)
        let region2 = Result { try vm.setUserMemoryRegion2(slot: 5, guestPhysicalAddress: 0x100000, size: 0x10000, userspaceAddress: plain.userspaceAddress) }
        XCTAssertEqual((try? region2.get()) != nil, caps.userMemory2)
        // KVM_CAP_EXIT_HYPERCALL: enabling exactly the advertised mask succeeds.
        if caps.exitHypercallMask != 0 { XCTAssertNoThrow(try system.createVM().enableHypercallExits(mask: caps.exitHypercallMask)) }
        XCTAssertEqual(caps.mapGPARangeExit, caps.exitHypercallMask & (1 << 12) != 0)
        if caps.userSpaceMSR { XCTAssertNoThrow(try system.createVM().enableUserSpaceMSR(.all)) }
        if caps.disableQuirks2.contains(.fixHypercallInstruction) { XCTAssertNoThrow(try system.createVM().disableQuirks(.fixHypercallInstruction)) }
        if !caps.memoryAttributes.contains(.private) {
            XCTAssertThrowsError(try vm.setMemoryAttributes(address: 0, size: 0x1000, attributes: .private))
        }
    }

    func testCheckExtensionAndErrors() throws {
        try requireKVM()
        let system = try KVMSystem.open()
        XCTAssertGreaterThan(try system.vcpuMmapSize, 2352)
        XCTAssertEqual(try system.check(.userMemory), 1)
        // VM types 1..5 are refused here with EINVAL (docs/host-findings.md §1), and the error
        // says so.
        XCTAssertThrowsError(try system.createVM(type: .snp)) { error in
            XCTAssertEqual(error as? KVMError, .ioctl(name: "KVM_CREATE_VM", errno: EINVAL))
        }
        XCTAssertThrowsError(try KVMSystem.open(path: "/nonexistent/kvm")) { error in
            XCTAssertEqual(error as? KVMError, .open(path: "/nonexistent/kvm", errno: ENOENT))
        }
    }

    /// guest_memfd's own errors, where the kernel has guest_memfd for a default VM.
    func testGuestMemfdRefusesUnknownFlagsAndUnmappableMaps() throws {
        try requireGuestMemfd()
        let vm = try KVMSystem.open().createVM()
        // A flag outside GUEST_MEMFD_FLAGS is rejected.
        XCTAssertThrowsError(try vm.createGuestMemfd(size: 0x1000, flags: GuestMemfdFlags(rawValue: 4))) { error in
            XCTAssertEqual(error as? KVMError, .ioctl(name: "KVM_CREATE_GUEST_MEMFD", errno: EINVAL))
        }
        // Mapping a guest_memfd made without MMAP is refused before any syscall.
        let plain = try vm.createGuestMemfd(size: 0x1000)
        XCTAssertThrowsError(try plain.map())
    }

    /// Without guest_memfd, KVM_CREATE_GUEST_MEMFD fails by name (what the runner's probe
    /// sees and answers with the memfd stand-in), and the stand-in maps and punches.
    func testTheMemfdStandInWorksOnEveryHost() throws {
        try requireKVM()
        let vm = try KVMSystem.open().createVM()
        if try guestMemfdMissing() != nil, try vm.check(.guestMemfd) == 0 {
            XCTAssertThrowsError(try vm.createGuestMemfd(size: 0x1000, flags: [.mmap, .initShared])) { error in
                guard case let .ioctl(name, _) = error as? KVMError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "KVM_CREATE_GUEST_MEMFD")
            }
        }
        let memfd = try Memfd(name: "probe-tests", size: 0x4000)
        let mapping = try memfd.map(), second = try memfd.map()
        try mapping.write([0x11, 0x22], at: 0x1000)
        XCTAssertEqual(try second.read(at: 0x1000, count: 2), [0x11, 0x22], "two mappings share the bytes")
        try memfd.punchHole(offset: 0x1000, length: 0x1000)
        XCTAssertEqual(try second.read(at: 0x1000, count: 2), [0, 0], "a punched page reads zero through every mapping")
        XCTAssertThrowsError(try Memfd(name: "empty", size: 0))
    }

    /// KVM_CAP_PRE_FAULT_MEMORY is 0 here (docs/host-findings.md §1), so the ioctl is refused,
    /// by name.
    func testPreFaultMemoryFollowsTheProbe() throws {
        try requireKVM()
        let guest = try RealModeGuest(code: [0xF4])
        if try guest.system.probe().preFaultMemory {
            XCTAssertEqual(try guest.vcpu.preFaultMemory(gpa: 0, size: 0x1000), 0)
        } else {
            XCTAssertThrowsError(try guest.vcpu.preFaultMemory(gpa: 0, size: 0x1000)) { error in
                guard case let .ioctl(name, _) = error as? KVMError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "KVM_PRE_FAULT_MEMORY")
            }
        }
    }

    func testProbeEncodesAsJSON() throws {
        try requireKVM()
        let caps = try KVMSystem.open().probe()
        let data = try JSONEncoder().encode(caps)
        XCTAssertEqual(try JSONDecoder().decode(HostCapabilities.self, from: data), caps)
    }

    func testSupportedCPUID() throws {
        try requireKVM()
        let entries = try KVMSystem.open().supportedCPUID()
        XCTAssertFalse(entries.isEmpty)
        XCTAssertTrue(entries.contains { $0.function == 0 })
        XCTAssertTrue(entries.contains { $0.function == 0x8000_0000 })
    }
}
