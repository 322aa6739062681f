import Foundation
import XCTest

@testable import KVM

/// Ownership: every descriptor and mapping is released exactly once, so many
/// create/run/destroy cycles leave the process where it started.
final class LifecycleTests: XCTestCase {
    private func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    private func mappingCount() throws -> Int {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").count
    }

    func testFiveHundredCyclesLeakNothing() throws {
        try requireKVM()
        // Warm up once so lazily created runtime state is not counted as a leak.
        do {
            let guest = try RealModeGuest(code: [0xB0, 0x01, 0xE6, 0xE9, 0xF4])
            _ = try guest.expectOut(port: 0xE9)
        }
        let fdsBefore = try openDescriptorCount()
        let mapsBefore = try mappingCount()
        for cycle in 0..<500 {
            let guest = try RealModeGuest(code: [0xB0, UInt8(cycle & 0x7F), 0xE6, 0xE9, 0xF4])
            XCTAssertEqual(try guest.expectOut(port: 0xE9), UInt8(cycle & 0x7F))
            try guest.expectHalt()
        }
        XCTAssertEqual(try openDescriptorCount(), fdsBefore)
        XCTAssertEqual(try mappingCount(), mapsBefore)
    }

    /// A kicker may outlive its VCPU: the kvm_run mapping stays valid until the last one goes.
    func testKickerOutlivesVCPU() throws {
        try requireKVM()
        var kicker: VCPUKicker?
        do {
            let guest = try RealModeGuest(code: [0xF4])
            kicker = guest.vcpu.kicker
        }
        kicker?.kick()
        kicker = nil
    }
}
