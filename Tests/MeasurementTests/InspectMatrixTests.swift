import Foundation
import Payload
import TestSupport
import XCTest

/// `enlighten inspect` run with exactly the arguments given to sev-snp-measure 0.0.13, live, over
/// a matrix of images × VMM types × vCPU counts × vCPU types × guest features × (our images)
/// direct-boot inputs: stdout must be identical, byte for byte. Nothing is compared against
/// values taken from our own output.
final class InspectMatrixTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-matrix-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// The enlighten executable `swift test` builds next to the test bundle.
    private func enlighten() throws -> String {
        let found = EnlightenExecutable.path(besideBundleOf: Self.self)
        return try XCTUnwrap(found.path, "the enlighten executable is not next to the tests (looked in \(found.lookedIn))")
    }

    /// Our firmware-layout image of `stub`, written to the scratch folder.
    private func ownImage(_ stub: String) throws -> String {
        let root = try ProjectRoot.locate()
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
        let image = try builder.build(try StubSource.resolve(stub, root: root), layout: .firmware)
        let path = scratch.appendingPathComponent("\(stub).firmware.bin").path
        try Data(try XCTUnwrap(image.romBytes())).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Random kernel and initrd files (their hashes are all the tools see).
    private func directBootFiles() throws -> (kernel: String, initrd: String) {
        var generator = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
        func write(_ name: String, count: Int) throws -> String {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let path = scratch.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (try write("bzImage", count: 300_001), try write("initrd.img", count: 70_000))
    }

    /// Runs both tools with `arguments` and checks they print the same and both succeed.
    private func compare(_ arguments: [String], tool: String, ours: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try Command.execute(tool, arguments)
        let mine = try Command.execute(ours, ["inspect"] + arguments)
        XCTAssertEqual(reference.status, 0, "sev-snp-measure \(arguments): \(reference.stderr)", file: file, line: line)
        XCTAssertEqual(mine.status, 0, "enlighten inspect \(arguments): \(mine.stderr)", file: file, line: line)
        XCTAssertEqual(mine.stdout, reference.stdout, "\(arguments)", file: file, line: line)
        XCTAssertFalse(reference.stdout.isEmpty, file: file, line: line)
    }

    private let vcpuChoices: [[String]] = [
        ["--vcpu-type", "EPYC-v4"], ["--vcpu-type", "EPYC-Milan"], ["--vcpu-type", "EPYC-Genoa"], ["--vcpu-type", "EPYC-Rome-v2"],
        ["--vcpu-sig", "0xa10f11"], ["--vcpu-sig", "8392466"], ["--vcpu-family", "25", "--vcpu-model", "17", "--vcpu-stepping", "1"],
    ]

    func testOVMFEveryVMMTypeVCPUCountTypeAndFeatures() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let ovmf = try ExternalTools.ovmfPath()
        for vmm in ["QEMU", "ec2", "gce"] {
            for (index, vcpu) in vcpuChoices.enumerated() {
                let vcpus = [1, 2, 7][index % 3]
                let features = ["0x1", "0x21", "0x0", "0x40001"][index % 4]
                try compare(
                    ["--mode", "snp", "--vcpus", "\(vcpus)", "--vmm-type", vmm, "--guest-features", features, "--ovmf", ovmf] + vcpu,
                    tool: tool, ours: ours)
                try compare(["--mode", "seves", "--vcpus", "\(vcpus)", "--vmm-type", vmm, "--ovmf", ovmf] + vcpu, tool: tool, ours: ours)
            }
        }
        try compare(["--mode", "sev", "--ovmf", ovmf], tool: tool, ours: ours)
        try compare(["--mode", "snp:ovmf-hash", "--ovmf", ovmf], tool: tool, ours: ours)
        try compare(["--mode", "snp:ovmf-hash", "--output-format", "base64", "-v", "--ovmf", ovmf], tool: tool, ours: ours)
        try compare(
            ["--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-Rome", "--output-format", "base64", "-v", "--ovmf", ovmf],
            tool: tool, ours: ours)
        try compare(["--mode", "sev", "-v", "--ovmf", ovmf], tool: tool, ours: ours)
        try compare(
            ["--mode", "snp", "--vcpus", "64", "--vcpu-type", "EPYC-Turin", "--guest-features", "0x3", "--ovmf", ovmf],
            tool: tool, ours: ours)
        try compare(
            ["--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-v4", "--output-format", "base64", "-v", "--ovmf", ovmf],
            tool: tool, ours: ours)
    }

    func testOVMFFromAPrecomputedImageHash() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let ovmf = try ExternalTools.ovmfPath()
        let hash = try Command.run(tool, ["--mode", "snp:ovmf-hash", "--ovmf", ovmf]).trimmingCharacters(in: .whitespacesAndNewlines)
        try compare(
            ["--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--snp-ovmf-hash", hash, "--ovmf", ovmf],
            tool: tool, ours: ours)
    }

    func testOurImagesWithMeasuredDirectBoot() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let files = try directBootFiles()
        let boots: [[String]] = [
            [], ["--kernel", files.kernel], ["--kernel", files.kernel, "--initrd", files.initrd],
            ["--kernel", files.kernel, "--initrd", files.initrd, "--append", "console=ttyS0 root=/dev/vda1 quiet"],
            ["--kernel", files.kernel, "--append", ""],
        ]
        for stub in ["hello", "payload-integrity"] {
            let image = try ownImage(stub)
            for vmm in ["QEMU", "ec2", "gce"] {
                for (index, boot) in boots.enumerated() {
                    let vcpu = vcpuChoices[index % vcpuChoices.count]
                    let vcpus = [1, 4, 2][index % 3]
                    try compare(
                        [
                            "--mode", "snp", "--vcpus", "\(vcpus)", "--vmm-type", vmm, "--guest-features", index % 2 == 0 ? "0x1" : "0x21",
                            "--ovmf", image,
                        ] + vcpu + boot, tool: tool, ours: ours)
                    try compare(
                        ["--mode", "seves", "--vcpus", "\(vcpus)", "--vmm-type", vmm, "--ovmf", image] + vcpu + boot,
                        tool: tool, ours: ours)
                }
            }
            for boot in boots { try compare(["--mode", "sev", "--ovmf", image] + boot, tool: tool, ours: ours) }
        }
    }

    func testDumpedVMSAsAreByteIdentical() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let ovmf = try ExternalTools.ovmfPath()
        for (mode, vmm) in [("snp", "QEMU"), ("snp", "ec2"), ("snp", "gce"), ("seves", "QEMU"), ("seves", "ec2")] {
            let theirs = scratch.appendingPathComponent("ssm-\(mode)-\(vmm)")
            let mine = scratch.appendingPathComponent("ours-\(mode)-\(vmm)")
            try FileManager.default.createDirectory(at: theirs, withIntermediateDirectories: true)
            let arguments = ["--mode", mode, "--vcpus", "3", "--vcpu-type", "EPYC-Genoa", "--vmm-type", vmm, "--ovmf", ovmf]
            _ = try Command.run(tool, arguments + ["--dump-vmsa"], in: theirs)
            _ = try Command.run(ours, ["inspect"] + arguments + ["--dump-vmsa", mine.path])
            let names = try FileManager.default.contentsOfDirectory(atPath: theirs.path).sorted()
            XCTAssertEqual(names, ["vmsa0.bin", "vmsa1.bin", "vmsa2.bin"])
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mine.path).sorted(), names)
            for name in names {
                let expected = try Data(contentsOf: theirs.appendingPathComponent(name))
                XCTAssertEqual(expected.count, 4096)
                XCTAssertEqual(try Data(contentsOf: mine.appendingPathComponent(name)), expected, "\(mode) \(vmm) \(name)")
            }
        }
    }

    /// OVMF_CODE.fd's TDX section 0 lies past the file: sev-snp-measure still measures it, and
    /// so must we, exiting 0 when only the SNP digest is asked for.
    func testCodeOnlyOVMFStillHasItsSNPDigest() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let code = "/usr/share/OVMF/OVMF_CODE.fd"
        XCTAssertTrue(FileManager.default.fileExists(atPath: code), "\(code) is not installed (bash scripts/test.sh installs the Debian package ovmf)")
        guard FileManager.default.fileExists(atPath: code) else { return }
        try compare(["--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", code], tool: tool, ours: ours)
        let full = try Command.execute(ours, ["inspect", code, "--json"])
        XCTAssertEqual(full.status, 1, "every digest asked for, and MRTD cannot be computed")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(full.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(json["mrtd"] is NSNull, "a digest that cannot be computed is null")
        let reasons = try XCTUnwrap(json["digestErrors"] as? [String: String])
        XCTAssertTrue(reasons["TDX MRTD"]?.contains("past the end of the") == true, "\(reasons)")
        XCTAssertTrue(json["snpLaunchDigest"] is String)
    }

    func testKernelForAnImageWithoutAHashSectionIsRefusedLikeSevSnpMeasure() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let ours = try enlighten()
        let ovmf = try ExternalTools.ovmfPath()
        let files = try directBootFiles()
        let arguments = ["--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf, "--kernel", files.kernel]
        XCTAssertEqual(try Command.execute(tool, arguments).status, 1)
        let mine = try Command.execute(ours, ["inspect"] + arguments)
        XCTAssertEqual(mine.status, 1)
        XCTAssertTrue(mine.stderr.contains("no SNP_KERNEL_HASHES section"), mine.stderr)
        XCTAssertEqual(mine.stderr.split(separator: "\n").count, 1)
    }
}
