import GuestABI
import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// GHCB NAE events served through the vCPU's devices, as KVM's sev.c answers them: the GHCB
/// as the guest fills it in, the page and the outcome as the guest finds them. No /dev/kvm.
final class GHCBEventServiceTests: XCTestCase {
    private static let ghcbGPA: UInt64 = 0x1000
    private let fixture = GuestDevicesFixture()

    /// A GHCB with SW_EXITCODE / SW_EXITINFO1 / SW_EXITINFO2 valid, as a #VC handler fills it.
    private func page(_ exitCode: UInt64, info1: UInt64 = 0, info2: UInt64 = 0) -> GHCBPage {
        var page = GHCBPage()
        page.protocolVersion = 2
        page.set(.swExitCode, exitCode)
        page.set(.swExitInfo1, info1)
        page.set(.swExitInfo2, info2)
        return page
    }

    private func serve(_ page: inout GHCBPage, host: inout GHCBHost, events: inout [RunEvent]) -> GHCBHost.Outcome {
        GHCBHost.serveEvent(
            in: &page, ghcbGPA: Self.ghcbGPA, xsave: &host.xsave, memory: fixture.memory, devices: fixture.devices,
            transport: .trap, vcpu: 0, events: &events)
    }

    private func serve(_ page: inout GHCBPage) -> (GHCBHost.Outcome, [RunEvent]) {
        var host = GHCBHost(), events: [RunEvent] = []
        let outcome = serve(&page, host: &host, events: &events)
        return (outcome, events)
    }

    func testIOIOOutToTheDebugConsoleAndTheExitPortReachTheReportChannel() {
        for byte in Array("hi\n".utf8) {
            var out = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xE9, size: 1, isIn: false).rawValue)
            out.set(.rax, UInt64(byte))
            let (outcome, events) = serve(&out)
            guard case .resume = outcome else { return XCTFail("OUT to the console: \(outcome)") }
            XCTAssertEqual(out[.swExitInfo1], 0)
            XCTAssertEqual(events, [.served(vcpu: 0, interface: .sevSNP, request: .portIO(port: 0xE9, size: 1, count: 1, write: true), answer: "done")])
        }
        XCTAssertEqual(fixture.logLines, ["hi"])
        var exit = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xF4, size: 4, isIn: false).rawValue)
        exit.set(.rax, 3)
        guard case .exited(3) = serve(&exit).0 else { return XCTFail("the exit port ends the run with the guest's code") }
    }

    /// IN merges a 1-byte answer into RAX (x86.c complete_fast_pio_in): the presence byte
    /// from the record port, all ones from a port nobody decodes (counted as unserved).
    func testIOIOInAnswersThePresenceByteAndTheFloatingBus() {
        var record = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xEA, size: 1, isIn: true).rawValue)
        record.set(.rax, 0x1122_3344_5566_7788)
        _ = serve(&record)
        XCTAssertEqual(record[.rax], 0x1122_3344_5566_77E7)
        var unknown = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0x1234, size: 4, isIn: true).rawValue)
        _ = serve(&unknown)
        XCTAssertEqual(unknown[.rax], 0xFFFF_FFFF)
        XCTAssertEqual(fixture.unserved, 1, "the unknown port is logged as unserved, the record port is not")
    }

    /// REP OUTSB through the scratch area in the GHCB's shared buffer: the bytes are the
    /// scratch area's, count from SW_EXITINFO2.
    func testRepOutsbThroughTheSharedBufferWritesEachByte() {
        let text = Array("scratch\n".utf8)
        var outs = page(
            GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xE9, size: 1, isIn: false, isString: true, isRep: true).rawValue,
            info2: UInt64(text.count))
        outs.set(.swScratch, Self.ghcbGPA + 0x800)
        for (index, byte) in text.enumerated() { outs.store(byte, at: 0x800 + index) }
        let (_, events) = serve(&outs)
        XCTAssertEqual(fixture.logLines, ["scratch"])
        XCTAssertEqual(events, [.served(vcpu: 0, interface: .sevSNP, request: .portIO(port: 0xE9, size: 1, count: 8, write: true), answer: "done")])
    }

    /// An MSR nobody emulates — the GHCB MSR included, which is the hardware's — is answered
    /// with the #GP request: SW_EXITINFO1 1, SW_EXITINFO2 0x8000030D (svm.c
    /// svm_complete_emulated_msr).
    func testMSRReadOfAnUnknownMSRAndOfTheGHCBMSRAsksForGP() {
        for index in [UInt32(0x1234_5678), GHCBMSRProtocol.msrIndex] {
            var read = page(GHCBExitCode.msr)
            read.set(.rcx, UInt64(index))
            let (_, events) = serve(&read)
            XCTAssertEqual(read[.swExitInfo1], 1)
            XCTAssertEqual(read[.swExitInfo2], 0x8000_030D)
            XCTAssertEqual(events.count, 1)
            guard case .rejected = events.first else { return XCTFail("a refused MSR is a rejection: \(events)") }
        }
    }

    /// CPUID leaf 0xD.0 with XCR0: EBX is the standard-format size of XCR0's components,
    /// from the list's subleaves (xstate_required_size), the other registers the list's.
    func testCPUIDLeafDAnswersTheSizeForTheGuestsXCR0() {
        let significant = CPUIDAnswer.significantIndex
        let fixture = GuestDevicesFixture(cpuid: [
            CPUIDFixtures.e(0xD, 0, significant, 0x7, 0x340, 0x340, 0),
            CPUIDFixtures.e(0xD, 2, significant, 0x100, 0x240, 0, 0),
        ])
        var cpuid = page(GHCBExitCode.cpuid)
        cpuid.set(.rax, 0xD)
        cpuid.set(.rcx, 0)
        cpuid.set(.xcr0, 0x1)
        var host = GHCBHost(), events: [RunEvent] = []
        _ = GHCBHost.serveEvent(
            in: &cpuid, ghcbGPA: Self.ghcbGPA, xsave: &host.xsave, memory: fixture.memory, devices: fixture.devices,
            transport: .trap, vcpu: 0, events: &events)
        XCTAssertEqual([cpuid[.rax], cpuid[.rbx], cpuid[.rcx], cpuid[.rdx]], [0x7, 576, 0x340, 0], "x87 only: the legacy area and header")
        cpuid = page(GHCBExitCode.cpuid)
        cpuid.set(.rax, 0xD)
        cpuid.set(.rcx, 0)
        cpuid.set(.xcr0, 0x7)
        _ = GHCBHost.serveEvent(
            in: &cpuid, ghcbGPA: Self.ghcbGPA, xsave: &host.xsave, memory: fixture.memory, devices: fixture.devices,
            transport: .trap, vcpu: 0, events: &events)
        XCTAssertEqual(cpuid[.rbx], 0x340, "AVX at 0x240 + 0x100")
        XCTAssertEqual(host.xsave.xcr0, 0x7, "KVM keeps the XCR0 the guest supplied")
    }

    func testCPUIDLeafDWithoutXCR0IsMissingInput() {
        var cpuid = page(GHCBExitCode.cpuid)
        cpuid.set(.rax, 0xD)
        cpuid.set(.rcx, 0)
        let (_, events) = serve(&cpuid)
        XCTAssertEqual([cpuid[.swExitInfo1], cpuid[.swExitInfo2]], [2, GHCBMalformedInput.missingInput.rawValue])
        guard case .rejected = events.first else { return XCTFail("\(events)") }
    }

    /// MMIO read of a GPA no device decodes: all ones into the scratch area, counted.
    func testMMIOReadWithNoDeviceReadsAllOnes() {
        var read = page(GHCBExitCode.mmioRead, info1: 0xFEE0_0000, info2: 4)
        read.set(.swScratch, Self.ghcbGPA + 0x800)
        _ = serve(&read)
        XCTAssertEqual(read.load(UInt32.self, at: 0x800), 0xFFFF_FFFF)
        XCTAssertEqual(read[.swExitInfo1], 0)
        XCTAssertEqual(fixture.unserved, 1)
    }

    /// The malformed forms: an IOIO size field that is not 1, 2 or 4, a string scratch
    /// area outside the GHCB's shared buffer, an OUT without RAX marked valid.
    func testMalformedIOIOEventsGetTheirErrorCodes() {
        var badSize = page(GHCBExitCode.ioio, info1: (0xE9 << 16) | (3 << 4))
        badSize.set(.rax, 0)
        _ = serve(&badSize)
        XCTAssertEqual([badSize[.swExitInfo1], badSize[.swExitInfo2]], [2, GHCBMalformedInput.invalidInput.rawValue])

        var outside = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xE9, size: 1, isIn: false, isString: true).rawValue, info2: 4)
        outside.set(.swScratch, Self.ghcbGPA + 0x100)
        _ = serve(&outside)
        XCTAssertEqual([outside[.swExitInfo1], outside[.swExitInfo2]], [2, GHCBMalformedInput.invalidScratchArea.rawValue])

        var noRAX = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xE9, size: 1, isIn: false).rawValue)
        _ = serve(&noRAX)
        XCTAssertEqual([noRAX[.swExitInfo1], noRAX[.swExitInfo2]], [2, GHCBMalformedInput.missingInput.rawValue])
        XCTAssertEqual(fixture.logLines, [], "nothing reached the console")
    }

    /// The termination request ends the run as the guest's verdict, with its reason, and
    /// writes no answer.
    func testTerminationRequestIsAVerdictWithTheGuestsReason() {
        var terminate = page(GHCBExitCode.terminationRequest, info1: (3 << 4) | 0)
        let before = terminate.bytes
        let (outcome, _) = serve(&terminate)
        guard case .stop(let reason) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(reason, .terminationRequested(.ghcb(reasonSet: 0, reasonCode: 3, via: .naeEvent)))
        XCTAssertEqual(reason.description, "the guest asked to terminate: reason set 0, code 3 by GHCB NAE event")
        XCTAssertEqual(terminate.bytes, before)
    }

    /// INS through a scratch area in guest memory outside the GHCB: the bytes are written
    /// back there (KVM's kvm_write_guest after the IN), not into the page.
    func testRepInsbThroughGuestMemoryWritesTheScratchBack() {
        var ins = page(GHCBExitCode.ioio, info1: GHCBIOIOInfo(port: 0xEA, size: 1, isIn: true, isString: true, isRep: true).rawValue, info2: 4)
        ins.set(.swScratch, 0x3000)
        let (outcome, _) = serve(&ins)
        guard case .resume = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(fixture.memory.read(at: 0x3000, count: 5), [0xE7, 0xE7, 0xE7, 0xE7, 0])
        XCTAssertEqual(ins[.swExitInfo1], 0)
    }

    /// The MSR protocol: a CPUID request is answered from the vCPU's list with ECX = 0 (the
    /// register value in GHCBData[63:32], response code 0x005); a termination request
    /// (0x100) ends the run with its reason. Needs a conversion service, hence /dev/kvm.
    func testMSRProtocolCPUIDAndTermination() throws {
        var service = try ServiceFixture.make(ram: GPARange(start: 0, end: 1 << 20))
        let fixture = GuestDevicesFixture(cpuid: [CPUIDFixtures.e(0, 0, 0, 0xD, 0x6874_7541, 0x444D_4163, 0x6974_6E65)])
        var host = GHCBHost()
        host.writeMSR(GHCBMSRRequest.cpuid(function: 0, register: 1).msrValue)
        let outcome = host.vmgexit(
            memory: fixture.memory, service: service.service, policy: .strict, devices: fixture.devices,
            transport: .trap, vcpu: 0, events: &service.events)
        guard case .resume = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(host.msr & 0xFFF, 0x005)
        XCTAssertEqual(host.msr >> 32, 0x6874_7541, "EBX of leaf 0")
        host.writeMSR(GHCBMSRRequest.terminate(reasonSet: 1, reasonCode: 4).msrValue)
        let stop = host.vmgexit(
            memory: fixture.memory, service: service.service, policy: .strict, devices: fixture.devices,
            transport: .trap, vcpu: 0, events: &service.events)
        guard case .stop(let reason) = stop else { return XCTFail("\(stop)") }
        XCTAssertEqual(reason, .terminationRequested(.ghcb(reasonSet: 1, reasonCode: 4, via: .msrProtocol)))
    }
}
