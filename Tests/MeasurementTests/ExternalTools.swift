import Foundation
import XCTest

/// Test-time access to third-party inputs: Debian's OVMF (downloaded, never committed) and the
/// sev-snp-measure tool named by SEV_SNP_MEASURE.
enum ExternalTools {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a program and returns its standard output; throws with its standard error on failure.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): "
                + String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Path of Debian's combined OVMF.fd: $ENLIGHTEN_OVMF if set, else downloaded with
    /// `apt-get download ovmf` into a temporary directory. Skips the test when neither works.
    static func ovmfPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["ENLIGHTEN_OVMF"], !path.isEmpty { return path }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("enlighten-ovmf-\(ProcessInfo.processInfo.processIdentifier)")
        let target = directory.appendingPathComponent("root/usr/share/ovmf/OVMF.fd").path
        if FileManager.default.fileExists(atPath: target) { return target }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try run("/usr/bin/apt-get", ["download", "ovmf"], in: directory)
            let debs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".deb") }
            guard let deb = debs.first else { throw Failure(description: "apt-get download ovmf produced no .deb") }
            _ = try run("/usr/bin/dpkg-deb", ["-x", directory.appendingPathComponent(deb).path,
                                              directory.appendingPathComponent("root").path])
        } catch {
            throw XCTSkip("Debian's OVMF is not available (set ENLIGHTEN_OVMF or allow apt-get download ovmf): \(error)")
        }
        return target
    }

    static func ovmfBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try ovmfPath())))
    }

    /// The sev-snp-measure executable named by SEV_SNP_MEASURE, or a skip with the reason printed.
    static func sevSNPMeasure() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["SEV_SNP_MEASURE"], !path.isEmpty else {
            let reason = "SEV_SNP_MEASURE is not set; point it at a sev-snp-measure executable to compare digests"
            print("skipping: \(reason)")
            throw XCTSkip(reason)
        }
        return path
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
