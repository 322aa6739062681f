import Measurement
import Payload
import TestSupport
import XCTest

/// Mutates Debian's OVMF at least 10,000 times and runs every parser (and, on a sample, every
/// digest) on the result: nothing may trap, and every failure must be a typed, described error.
final class FirmwareFuzzTests: XCTestCase {
    /// SplitMix64 with a fresh seed each run, printed, so a failure reproduces (ENLIGHTEN_FUZZ_SEED).
    func testTenThousandMutationsNeverCrash() throws {
        let original = try ExternalTools.ovmfBytes()
        var generator = SplitMix64.fresh(for: name)
        var bytes = original
        var problemsSeen = 0
        var digestFailures = 0
        let tail = 0x1000 // the tables live in the last 4 KiB
        for iteration in 0..<10_000 {
            var changed: [(Int, UInt8)] = []
            let edits = Int.random(in: 1...4, using: &generator)
            for _ in 0..<edits {
                let offset =
                    Bool.random(using: &generator) || Int.random(in: 0..<10, using: &generator) < 9
                    ? bytes.count - 1 - Int.random(in: 0..<tail, using: &generator)
                    : Int.random(in: 0..<bytes.count, using: &generator)
                let width = [1, 1, 2, 4].randomElement(using: &generator) ?? 1
                for index in offset..<min(offset + width, bytes.count) {
                    changed.append((index, bytes[index]))
                    bytes[index] =
                        [0x00, 0xFF, UInt8.random(in: 0...255, using: &generator)]
                        .randomElement(using: &generator) ?? 0
                }
            }
            // Every 50th iteration also truncates, from the front (keeps the tables) or the back.
            let subject: [UInt8]
            if iteration % 50 == 0 {
                let keep = Int.random(in: 0..<bytes.count, using: &generator)
                subject = Bool.random(using: &generator) ? Array(bytes.suffix(keep)) : Array(bytes.prefix(keep))
            } else {
                subject = bytes
            }
            let image = FirmwareImage(bytes: subject)
            problemsSeen += image.problems.count
            for problem in image.problems { XCTAssertFalse(problem.description.isEmpty) }
            _ = FirmwarePopulation.snp(image)
            _ = FirmwarePopulation.tdx(image)
            if iteration % 50 == 1 {
                digestFailures += digestErrors(image).count
            }
            for (index, value) in changed.reversed() { bytes[index] = value }
        }
        XCTAssertEqual(bytes, original, "mutations were undone")
        XCTAssertGreaterThan(problemsSeen, 100, "the mutations reached the tables")
        print("fuzz: 10000 mutations, \(problemsSeen) problems reported, \(digestFailures) digests refused")
    }

    private func digestErrors(_ image: FirmwareImage) -> [MeasurementError] {
        var errors: [MeasurementError] = []
        do { _ = try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 2, vcpuSignature: 0x0080_0F12)) } catch { errors.append(error) }
        do { _ = try SEVMeasurement.sevESDigest(of: image, vcpus: 2, vcpuSignature: 0x0080_0F12) } catch { errors.append(error) }
        do { _ = try TDXMeasurement.mrtd(of: image, order: .twoPass) } catch { errors.append(error) }
        return errors
    }
}
