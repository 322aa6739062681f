import KVM
import XCTest

@testable import HostRunner

/// What a guest learns of its platform from CPUID leaf 0x8000001F (AMD memory encryption).
final class CPUIDTableTests: XCTestCase {
    /// An AMD SEV-SNP host's KVM_GET_SUPPORTED_CPUID reports the host's features in the leaf:
    /// SME (bit 0), SEV (1), SEV-ES (3), SEV-SNP (4), C-bit 51 in EBX[5:0].
    private let supported: [CPUIDEntry] = {
        var maximum = CPUIDEntry()
        maximum.function = 0x8000_0000
        maximum.eax = 0x8000_0021
        var sev = CPUIDEntry()
        sev.function = 0x8000_001F
        sev.eax = 0b1_1011
        sev.ebx = 0x0000_0173
        return [maximum, sev]
    }()

    private func leaf(_ platform: ConversionPlatform?) -> CPUIDEntry? {
        CPUIDTable.forVCPU(0, supported: supported, platform: platform).first { $0.function == 0x8000_001F }
    }

    /// A guest that is not an SEV guest must not be told it is one (QEMU zeroes the leaf
    /// without SEV), or it would read SEV_STATUS, an MSR only SEV guests have.
    func testGuestsThatAreNotSEVGuestsSeeNoMemoryEncryption() throws {
        for platform in [ConversionPlatform.kvm, .tdx, nil] {
            let entry = try XCTUnwrap(leaf(platform))
            XCTAssertEqual([entry.eax, entry.ebx, entry.ecx, entry.edx], [0, 0, 0, 0], "\(String(describing: platform))")
        }
    }

    /// An SNP guest sees SEV, SEV-ES and SEV-SNP and the runner's C-bit position (47).
    func testAnSNPGuestSeesSNPAndTheCBit() throws {
        let entry = try XCTUnwrap(leaf(.sevSNP))
        XCTAssertEqual(entry.eax & 0b1_1010, 0b1_1010)
        XCTAssertEqual(entry.ebx & 0x3F, 47)
    }
}
