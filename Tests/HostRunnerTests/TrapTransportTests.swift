import GuestABI
import GuestPhysical
import XCTest

@testable import HostRunner

/// The trap transport's TDX side (TDXHost) driven with TDCALL register sets as the guest
/// leaves them at the TDCALL site, against a real conversion service.
final class TrapTransportTests: XCTestCase {
    private static let ram = GPARange(start: 0, end: 8 << 20)
    private static let sharedBit: UInt64 = 1 << 47 // GPAW 48

    /// TDG.VP.VMCALL<MapGPA> as tdx.asm issues it: rax 0, rcx 0xFC00 (R10–R15 exposed), r10 0,
    /// r11 0x10001, r12 gpa (shared bit for shared), r13 size (docs/abi.md §3.2–§3.3).
    private func mapGPA(_ gpa: UInt64, _ size: UInt64) -> TDCallRegisters {
        var registers = TDCallRegisters()
        registers.rcx = 0xFC00
        registers.r11 = 0x10001
        registers.r12 = gpa
        registers.r13 = size
        return registers
    }

    private func call(_ host: inout TDXHost, _ fixture: inout ServiceFixture, _ gpa: UInt64, _ size: UInt64) -> TDCallRegisters {
        var registers = mapGPA(gpa, size)
        host.tdcall(&registers, vcpu: 0, service: fixture.service, devices: GuestDevicesFixture().devices, transport: .trap, events: &fixture.events)
        XCTAssertEqual(registers.rax, 0, "the TDCALL itself succeeds")
        return registers
    }

    func testInjectedRetryStopsAfterTheFirstChunkWithR11AtTheNext() throws {
        var fixture = try ServiceFixture.make(ram: Self.ram)
        var host = TDXHost(width: .bits48, vcpuCount: 1, retriesToInject: 1)
        let answer = call(&host, &fixture, Self.sharedBit | 0x40_0000, 0x40_0000)
        XCTAssertEqual(answer.r10, 1, "TDVMCALL_STATUS_RETRY")
        XCTAssertEqual(answer.r11, Self.sharedBit | 0x60_0000, "resume from the next 2 MiB, shared bit included")
        let resumed = call(&host, &fixture, answer.r11, 0x20_0000)
        XCTAssertEqual(resumed.r10, 0)
        XCTAssertEqual(fixture.conversions.map(\.range), [GPARange(start: 0x40_0000, end: 0x60_0000), GPARange(start: 0x60_0000, end: 0x80_0000)])
        XCTAssertEqual(fixture.conversions.map(\.direction), [.shared, .shared])
    }

    /// A MapGPA that fits in one chunk cannot be answered RETRY (KVM retries only while work
    /// remains), so it must leave a forced retry for the next call that can take it.
    /// (Regression: TDXHost used to spend a retry on every chunk's question, the last chunk's
    /// included; fixed in b28bea9.)
    func testOneChunkMapGPADoesNotSpendAnInjectedRetry() throws {
        var fixture = try ServiceFixture.make(ram: Self.ram)
        var host = TDXHost(width: .bits48, vcpuCount: 1, retriesToInject: 1)
        XCTAssertEqual(call(&host, &fixture, Self.sharedBit | 0x40_0000, 0x1000).r10, 0, "one page: SUCCESS")
        XCTAssertEqual(host.retriesToInject, 1, "no RETRY was answered, so none was spent")
        let large = call(&host, &fixture, 0x40_0000, 0x40_0000)
        XCTAssertEqual(large.r10, 1, "the forced RETRY goes to the first call that has a second chunk")
        XCTAssertEqual(large.r11, 0x60_0000)
    }
}
