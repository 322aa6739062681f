import Foundation
import XCTest

@testable import KVM

/// The probe on this machine must report what shared/HOST-NOTES.md measured.
final class ProbeTests: XCTestCase {
    func testProbeMatchesHostNotes() throws {
        try requireKVM()
        let system = try KVMSystem.open()
        XCTAssertEqual(try system.apiVersion, 12)
        let caps = try system.probe()
        print("KVMTests probe: \(caps)")
        XCTAssertEqual(caps.vmTypesMask, 1)
        XCTAssertEqual(caps.vmTypes, [.default])
        XCTAssertFalse(caps.snp)
        XCTAssertFalse(caps.tdx)
        XCTAssertTrue(caps.guestMemfd)
        XCTAssertEqual(caps.guestMemfdFlags, [.mmap, .initShared])
        XCTAssertEqual(caps.memoryAttributes, [])
        XCTAssertEqual(caps.exitHypercallMask, 1 << 12)
        XCTAssertTrue(caps.mapGPARangeExit)
        XCTAssertTrue(caps.userSpaceMSR)
        XCTAssertTrue(caps.msrFilter)
        XCTAssertEqual(caps.disableQuirks2.rawValue, 0x5ff)
        XCTAssertTrue(caps.disableQuirks2.contains(.fixHypercallInstruction))
        XCTAssertTrue(caps.guestDebug.isSuperset(of: [.enable, .singleStep, .useHardwareBreakpoints]))
        XCTAssertTrue(caps.userMemory2)
        XCTAssertTrue(caps.memoryFaultInfo)
        XCTAssertFalse(caps.preFaultMemory)
    }

    func testCheckExtensionAndErrors() throws {
        try requireKVM()
        let system = try KVMSystem.open()
        XCTAssertGreaterThan(try system.vcpuMmapSize, 2352)
        XCTAssertEqual(try system.check(.userMemory), 1)
        // VM types 1..5 are refused here with EINVAL (HOST-NOTES), and the error says so.
        XCTAssertThrowsError(try system.createVM(type: .snp)) { error in
            XCTAssertEqual(error as? KVMError, .ioctl(name: "KVM_CREATE_VM", errno: EINVAL))
        }
        XCTAssertThrowsError(try KVMSystem.open(path: "/nonexistent/kvm")) { error in
            XCTAssertEqual(error as? KVMError, .open(path: "/nonexistent/kvm", errno: ENOENT))
        }
        let vm = try system.createVM()
        // A flag outside GUEST_MEMFD_FLAGS is rejected.
        XCTAssertThrowsError(try vm.createGuestMemfd(size: 0x1000, flags: GuestMemfdFlags(rawValue: 4))) { error in
            XCTAssertEqual(error as? KVMError, .ioctl(name: "KVM_CREATE_GUEST_MEMFD", errno: EINVAL))
        }
        // Mapping a guest_memfd made without MMAP is refused before any syscall.
        let plain = try vm.createGuestMemfd(size: 0x1000)
        XCTAssertThrowsError(try plain.map())
    }

    /// HOST-NOTES: KVM_CAP_PRE_FAULT_MEMORY is 0 here, so the ioctl is refused, by name.
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
