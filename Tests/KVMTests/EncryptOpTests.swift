import CKVM
import XCTest

@testable import KVM

/// The SNP and TDX pre-population requests are built exactly as the uapi documents; they can
/// only be *run* on SNP/TDX hardware, which the probe reports (not this machine).
final class EncryptOpTests: XCTestCase {
    func testSNPLaunchUpdateStructure() {
        var update = SNPLaunchUpdate(gfnStart: 0x100, sourceAddress: 0x7F00_0000_1000, length: 0x3000, pageType: .normal)
        let raw = update.cValue
        XCTAssertEqual(raw.gfn_start, 0x100)
        XCTAssertEqual(raw.uaddr, 0x7F00_0000_1000)
        XCTAssertEqual(raw.len, 0x3000)
        XCTAssertEqual(raw.type, 1)
        XCTAssertEqual(raw.flags, 0)
        XCTAssertEqual(raw.pad0, 0)
        XCTAssertEqual(raw.pad1, 0)
        XCTAssertEqual(SNPPageType.zero.rawValue, 3)
        XCTAssertEqual(SNPPageType.unmeasured.rawValue, 4)
        XCTAssertEqual(SNPPageType.secrets.rawValue, 5)
        XCTAssertEqual(SNPPageType.cpuid.rawValue, 6)
        // Progress written back by KVM is taken over.
        var progressed = raw
        progressed.gfn_start = 0x102
        progressed.uaddr = 0x7F00_0000_3000
        progressed.len = 0x1000
        update.update(from: progressed)
        XCTAssertEqual(update, SNPLaunchUpdate(gfnStart: 0x102, sourceAddress: 0x7F00_0000_3000, length: 0x1000, pageType: .normal))
    }

    func testTDXInitMemRegionStructure() {
        var region = TDXInitMemRegion(sourceAddress: 0x7F00_0000_0000, gpa: 0x80_0000, pageCount: 16, measure: true)
        let raw = region.cValue
        XCTAssertEqual(raw.source_addr, 0x7F00_0000_0000)
        XCTAssertEqual(raw.gpa, 0x80_0000)
        XCTAssertEqual(raw.nr_pages, 16)
        XCTAssertEqual(region.commandFlags, 1)
        XCTAssertEqual(TDXInitMemRegion(sourceAddress: 0, gpa: 0, pageCount: 1, measure: false).commandFlags, 0)
        region.update(from: ckvm_tdx_init_mem_region(source_addr: 0x7F00_0000_4000, gpa: 0x80_4000, nr_pages: 12))
        XCTAssertEqual(region.pageCount, 12)
        XCTAssertEqual(region.gpa, 0x80_4000)
    }

    /// On a default VM the SNP command is refused by the kernel, and the error names it.
    func testSNPLaunchUpdateRefusedOnDefaultVM() throws {
        try requireKVM()
        let vm = try KVMSystem.open().createVM()
        var update = SNPLaunchUpdate(gfnStart: 0, sourceAddress: 0, length: 0x1000, pageType: .zero)
        XCTAssertThrowsError(try vm.snpLaunchUpdate(&update)) { error in
            guard case let .encryptOp(command, code, _) = error as? KVMError else { return XCTFail("\(error)") }
            XCTAssertEqual(command, "KVM_SEV_SNP_LAUNCH_UPDATE")
            XCTAssertNotEqual(code, 0)
        }
    }
}
