import Foundation
import TestSupport
import XCTest

/// Test-time access to third-party inputs: Debian's OVMF (downloaded, never committed) and the
/// sev-snp-measure tool named by SEV_SNP_MEASURE.
enum ExternalTools {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a program and returns its standard output; throws with its standard error on failure.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        try Command.run(executable, arguments, in: directory)
    }

    /// Path of Debian's combined OVMF.fd: $ENLIGHTEN_OVMF if set, else the installed ovmf
    /// package's, else downloaded with `apt-get download ovmf` into a temporary directory. Skips
    /// the test when none works.
    static func ovmfPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["ENLIGHTEN_OVMF"], !path.isEmpty { return path }
        if FileManager.default.fileExists(atPath: installedOVMF) { return installedOVMF }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("enlighten-ovmf-\(ProcessInfo.processInfo.processIdentifier)")
        let target = directory.appendingPathComponent("root/usr/share/ovmf/OVMF.fd").path
        if FileManager.default.fileExists(atPath: target) { return target }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            RemoveAtExit.folder(directory.path)
            _ = try run("/usr/bin/apt-get", ["download", "ovmf"], in: directory)
            let debs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".deb") }
            guard let deb = debs.first else { throw Failure(description: "apt-get download ovmf produced no .deb") }
            _ = try run(
                "/usr/bin/dpkg-deb",
                [
                    "-x", directory.appendingPathComponent(deb).path,
                    directory.appendingPathComponent("root").path,
                ])
        } catch {
            throw Failure(description: "Debian's OVMF is not available (bash scripts/test.sh installs the ovmf package; or set ENLIGHTEN_OVMF): \(error)")
        }
        return target
    }

    /// Where Debian's ovmf package installs the combined image.
    static let installedOVMF = "/usr/share/ovmf/OVMF.fd"

    static func ovmfBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try ovmfPath())))
    }

    /// sev-snp-measure 0.0.13 (SEV_SNP_MEASURE, or installed into .build by `SevSnpMeasure`).
    /// Never a skip: without the reference tool a comparison fails, saying why.
    static func sevSNPMeasure() throws -> String {
        try SevSnpMeasure.locate()
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
