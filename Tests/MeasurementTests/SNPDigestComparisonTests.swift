import Foundation
import Measurement
import Payload
import XCTest

/// Compares our launch digests with sev-snp-measure's, computed at test time on the same file.
final class SNPDigestComparisonTests: XCTestCase {
    private func measure(_ tool: String, _ arguments: [String]) throws -> String {
        try ExternalTools.run(tool, arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testOVMFSNPDigestMatchesSevSnpMeasureForEPYCv4() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let path = try ExternalTools.ovmfPath()
        let image = FirmwareImage(bytes: try ExternalTools.ovmfBytes())
        for vcpus in [1, 4] {
            let expected = try measure(tool, ["--mode", "snp", "--vcpus", "\(vcpus)", "--vcpu-type", "EPYC-v4", "--ovmf", path])
            let signature = try XCTUnwrap(VCPUSignature.named("EPYC-v4"))
            let ours = try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: vcpus, vcpuSignature: signature))
            XCTAssertEqual(ExternalTools.hex(ours), expected, "vcpus \(vcpus)")
        }
    }

    func testOVMFSNPDigestMatchesForOtherModelsAndFeatures() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let path = try ExternalTools.ovmfPath()
        let image = FirmwareImage(bytes: try ExternalTools.ovmfBytes())
        let cases: [(String, UInt64)] = [("EPYC-Milan", 0x1), ("EPYC-Genoa", 0x21), ("EPYC-Turin", 0x1)]
        for (model, features) in cases {
            let expected = try measure(
                tool,
                [
                    "--mode", "snp", "--vcpus", "2", "--vcpu-type", model,
                    "--guest-features", "0x" + String(features, radix: 16), "--ovmf", path,
                ])
            let signature = try XCTUnwrap(VCPUSignature.named(model))
            let options = SNPOptions(vcpus: 2, vcpuSignature: signature, guestFeatures: features)
            XCTAssertEqual(ExternalTools.hex(try SNPMeasurement.launchDigest(of: image, options: options)), expected, model)
        }
    }

    func testOVMFSEVAndSEVESDigestsMatchSevSnpMeasure() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let path = try ExternalTools.ovmfPath()
        let image = FirmwareImage(bytes: try ExternalTools.ovmfBytes())
        let sev = try measure(tool, ["--mode", "sev", "--ovmf", path])
        XCTAssertEqual(ExternalTools.hex(try SEVMeasurement.sevDigest(of: image)), sev)
        let signature = try XCTUnwrap(VCPUSignature.named("EPYC-v4"))
        let sevES = try measure(tool, ["--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", path])
        XCTAssertEqual(ExternalTools.hex(try SEVMeasurement.sevESDigest(of: image, vcpus: 2, vcpuSignature: signature)), sevES)
    }
}
