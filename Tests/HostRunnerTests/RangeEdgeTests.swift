import GuestABI
import GuestPhysical
import XCTest

@testable import HostRunner

/// Requests at the edges of the guest-physical address space, through every path that ends
/// in KVM_HC_MAP_GPA_RANGE (the hypercall itself, the GHCB VMMCALL event, TDVMCALL with
/// R10 = 12), against a real conversion service with 8 MiB of RAM.
///
/// Regression for the hostile-hardening issue's finding 1: npages ≥ 2^52 used to be cut to
/// 64 bits while turning frames into bytes, so 2^52 + 16 pages at 0x400000 converted (and
/// wiped) [0x400000, 0x410000) and answered success.
final class RangeEdgeTests: XCTestCase {
    private static let ram = GPARange(start: 0, end: 8 << 20)
    private static let encrypted: UInt64 = 0x10 // KVM_MAP_GPA_RANGE_ENCRYPTED
    private static let eFault: UInt64 = 0 &- 14 // -KVM_EFAULT: outside any memslot
    private static let eInval: UInt64 = 0 &- 22 // -KVM_EINVAL: frame arithmetic wraps

    /// (gpa, npages, the rax KVM + a VMM give it). KVM's own check (x86.c) refuses only a
    /// wrapping gfn + npages with EINVAL; the rest reach the VMM, whose answer for memory it
    /// does not have is our -EFAULT.
    private static let edges: [(gpa: UInt64, npages: UInt64, rax: UInt64)] = [
        (0x40_0000, (1 << 52) + 16, eFault),
        (0x40_0000, 1 << 63, eFault),
        (0x40_0000, .max, eInval),
        (0, .max, eFault),
        ((1 << 52) - 0x1000, 1, eFault),
        (0xFFFF_FFFF_FFFF_F000, 1, eFault),
        (0x40_0000, (1 << 52) - 0x400, eFault), // ends exactly at 2^64
    ]

    private func assertNothingConverted(_ fixture: ServiceFixture, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(fixture.conversions.allSatisfy { !$0.succeeded && $0.flipped.isEmpty }, context, file: file, line: line)
        XCTAssertEqual(fixture.service.pageStates.intervals.map(\.state), [.private], context, file: file, line: line)
        XCTAssertEqual(
            fixture.bytes(GPARange(start: 0x40_0000, end: 0x41_0000)), [UInt8](repeating: 0xA5, count: 0x1_0000),
            "content of \(context) survived", file: file, line: line)
    }

    private func fixture() throws -> ServiceFixture {
        let fixture = try ServiceFixture.make(ram: Self.ram)
        fixture.fill(Self.ram, with: 0xA5)
        return fixture
    }

    func testKVMHypercallEdgesAreRefusedWhole() throws {
        for edge in Self.edges {
            var fixture = try fixture()
            let context = "gpa \(hex(edge.gpa)) npages \(hex(edge.npages))"
            let rax = KVMHypercallHost.serve(
                nr: 12, a0: edge.gpa, a1: edge.npages, a2: 0, longMode: true, cpl: 0,
                transport: .trap, service: fixture.service, vcpu: 0, events: &fixture.events)
            XCTAssertEqual(rax, edge.rax, context)
            assertNothingConverted(fixture, context)
            // And back to private with the same range: the other direction is refused too.
            _ = KVMHypercallHost.serve(
                nr: 12, a0: edge.gpa, a1: edge.npages, a2: Self.encrypted, longMode: true, cpl: 0,
                transport: .trap, service: fixture.service, vcpu: 0, events: &fixture.events)
            assertNothingConverted(fixture, context)
        }
    }

    func testOutOfMemoryRecordPrintsTheRangeUnwrapped() throws {
        var fixture = try fixture()
        _ = KVMHypercallHost.serve(
            nr: 12, a0: 0x40_0000, a1: (1 << 52) + 16, a2: 0, longMode: true, cpl: 0,
            transport: .trap, service: fixture.service, vcpu: 0, events: &fixture.events)
        let record = try XCTUnwrap(fixture.conversions.first)
        XCTAssertEqual(record.outcome, .outsideGuestMemory)
        XCTAssertEqual(record.range.description, "[0x400000, 0x10000000000410000)")
    }

    func testGHCBVMMCALLEventEdgesAreRefusedWhole() throws {
        for edge in Self.edges {
            var fixture = try fixture()
            let context = "GHCB VMMCALL gpa \(hex(edge.gpa)) npages \(hex(edge.npages))"
            var page = GHCBPage()
            page.set(.swExitCode, 0x81)
            page.set(.swExitInfo1, 0)
            page.set(.swExitInfo2, 0)
            page.set(.rax, 12)
            page.set(.rbx, edge.gpa)
            page.set(.rcx, edge.npages)
            page.set(.rdx, 0)
            page.set(.cpl, 0)
            let disposition = GHCBExitHandler.handle(&page, ghcbGPA: 0x70_0000) { request in
                ConversionLog.convert(request, transport: .trap, service: fixture.service, vcpu: 0, events: &fixture.events)
            }
            XCTAssertEqual(disposition, .hypercall(rax: edge.rax), context)
            XCTAssertEqual(page[.rax], edge.rax, context)
            assertNothingConverted(fixture, context)
        }
    }

    func testTDVMCALLKVMHypercallEdgesAreRefusedWhole() throws {
        for edge in Self.edges {
            var fixture = try fixture()
            let context = "TDVMCALL r10 12 gpa \(hex(edge.gpa)) npages \(hex(edge.npages))"
            var host = TDXHost(width: .bits48, vcpuCount: 1, retriesToInject: 0)
            var registers = TDCallRegisters()
            registers.rcx = 0xFC00 // R10–R15 exposed
            registers.r10 = 12 // a non-zero R10 is a KVM hypercall number
            registers.r11 = edge.gpa
            registers.r12 = edge.npages
            registers.r13 = 0
            host.tdcall(&registers, vcpu: 0, service: fixture.service, devices: GuestDevicesFixture().devices, transport: .trap, events: &fixture.events)
            XCTAssertEqual(registers.rax, 0, "the TDCALL itself succeeds: \(context)")
            XCTAssertEqual(registers.r10, edge.rax, context)
            assertNothingConverted(fixture, context)
        }
    }
}
