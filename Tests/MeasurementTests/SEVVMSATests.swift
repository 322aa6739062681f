import Foundation
import Measurement
import XCTest

/// VMSA fields at the offsets of Linux's `struct sev_es_save_area`, with reset values from the
/// AMD APM; and, when sev-snp-measure is available, byte equality with the VMSA it dumps.
final class SEVVMSATests: XCTestCase {
    private func u64(_ page: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(page[offset + $1]) << (8 * $1) }
    }

    func testSignaturesFollowTheCPUIDEncoding() {
        // Family 0x17 = base 0xF + extended 0x8; model 1; stepping 2.
        XCTAssertEqual(VCPUSignature.named("EPYC-v4"), 0x0080_0F12)
        // Family 0x19 = 0xF + 0xA; model 0x11 splits into extended model 1, model 1.
        XCTAssertEqual(VCPUSignature.named("EPYC-Genoa"), 0x00A1_0F10)
        XCTAssertEqual(VCPUSignature.named("EPYC-Milan"), 0x00A0_0F11)
        XCTAssertEqual(VCPUSignature.make(family: 6, model: 0x55, stepping: 4), 0x0005_0654)
        XCTAssertNil(VCPUSignature.named("Skylake"))
    }

    func testBSPPageStartsAtTheResetVector() {
        let page = SEVVMSA.page(eip: 0xFFFF_FFF0, sevFeatures: 0x21, vcpuSignature: 0x0080_0F12)
        XCTAssertEqual(page.count, 4096)
        XCTAssertEqual(Array(page[0x10..<0x14]), [0x00, 0xF0, 0x9B, 0x00], "CS selector 0xF000, attributes 0x9B")
        XCTAssertEqual(u64(page, 0x18), 0xFFFF_0000, "CS base")
        XCTAssertEqual(u64(page, 0x178), 0xFFF0, "RIP")
        XCTAssertEqual(u64(page, 0xD0), 0x1000, "EFER.SVME")
        XCTAssertEqual(u64(page, 0x170), 0x2, "RFLAGS reserved bit")
        XCTAssertEqual(u64(page, 0x168), 0xFFFF_0FF0, "DR6 reset value")
        XCTAssertEqual(u64(page, 0x160), 0x400, "DR7 reset value")
        XCTAssertEqual(u64(page, 0x268), 0x0007_0406_0007_0406, "PAT power-on value")
        XCTAssertEqual(u64(page, 0x310), 0x0080_0F12, "RDX holds the CPUID signature")
        XCTAssertEqual(u64(page, 0x3B0), 0x21, "SEV_FEATURES")
        XCTAssertEqual(u64(page, 0x3E8), 0x1, "XCR0")
        XCTAssertEqual(Array(page[0x408..<0x40C]), [0x80, 0x1F, 0, 0], "MXCSR")
        XCTAssertEqual(Array(page[0x410..<0x412]), [0x7F, 0x03], "x87 FCW")
    }

    func testAPPageUsesTheResetBlockSplit() {
        let page = SEVVMSA.page(eip: 0x0080_B004, sevFeatures: 1, vcpuSignature: 0)
        XCTAssertEqual(u64(page, 0x18), 0x0080_0000, "CS base is the high half")
        XCTAssertEqual(u64(page, 0x178), 0xB004, "RIP is the low half")
    }

    func testVMSAEqualsSevSnpMeasureDump() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let path = try ExternalTools.ovmfPath()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-vmsa-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try ExternalTools.run(
            tool,
            [
                "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
                "--guest-features", "0x1", "--ovmf", path, "--dump-vmsa",
            ], in: directory)
        let bsp = [UInt8](try Data(contentsOf: directory.appendingPathComponent("vmsa0.bin")))
        let ap = [UInt8](try Data(contentsOf: directory.appendingPathComponent("vmsa1.bin")))
        let signature = try XCTUnwrap(VCPUSignature.named("EPYC-Milan"))
        XCTAssertEqual(SEVVMSA.page(eip: 0xFFFF_FFF0, sevFeatures: 1, vcpuSignature: signature), bsp)
        let apEIP =
            UInt32(ap[0x18]) | UInt32(ap[0x19]) << 8 | UInt32(ap[0x1A]) << 16 | UInt32(ap[0x1B]) << 24
            | UInt32(ap[0x178]) | UInt32(ap[0x179]) << 8
        XCTAssertEqual(SEVVMSA.page(eip: apEIP, sevFeatures: 1, vcpuSignature: signature), ap)
    }
}
