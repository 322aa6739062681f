import HostRunner
import XCTest

/// The runtime's own port I/O speaks the platform's protocol (issue 18, "our guests become
/// real guests"): on SEV-SNP a GHCB IOIO NAE event, on TDX TDVMCALL<Instruction.IO>, so an
/// image would report on the hardware, where raw `in`/`out` raise #VC / #VE. On KVM the
/// runtime keeps raw port I/O. (GuestStubs/runtime/portio.asm.)
final class RuntimeProtocolTests: XCTestCase {
    private struct Access: Hashable {
        let port: UInt16
        let size: Int
        let write: Bool
    }

    private func forwardedPorts(_ result: RunResult) -> [Access] {
        result.events.compactMap { event in
            guard case .served(_, _, .portIO(let port, let size, _, let write), _) = event else { return nil }
            return Access(port: port, size: size, write: write)
        }
    }

    func testReportsAreForwardedOnSEVSNPAndTDX() throws {
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let result = try ConversionRun.run("plain-reports.asm", platform: platform)
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
            XCTAssertEqual(result.logLines, ["plain reports"], "\(platform)")
            XCTAssertEqual(result.check("plain.one")?.actual, 1, "\(platform)")
            XCTAssertEqual(
                forwardedPorts(result),
                [
                    Access(port: 0xEA, size: 1, write: false), // presence
                    Access(port: 0xEA, size: 4, write: true), // LOG record
                    Access(port: 0xEA, size: 4, write: true), // CHECK record
                    Access(port: 0xF4, size: 4, write: true), // exit code
                ], "\(platform): every runtime port access forwarded, in order")
        }
    }

    func testReportsStayRawPortIOOnKVM() throws {
        let result = try ConversionRun.run("plain-reports.asm", platform: .kvm)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.check("plain.one")?.actual, 1)
        XCTAssertEqual(forwardedPorts(result), [], "nothing forwarded: KVM has no protocol for port I/O")
    }
}
