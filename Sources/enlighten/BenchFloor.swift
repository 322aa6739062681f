import Foundation
import HostRunner
import Payload

/// The raw-ioctl floor, Benchmarks/Floor: a C program of our own that does each figure's
/// work with nothing but the ioctls it needs.
///
/// `swift run enlighten bench` builds only the enlighten product, so the floor SwiftPM may
/// have built next to `enlighten` is used only when it is at least as new as its sources;
/// otherwise the floor is compiled from Benchmarks/Floor with the host's C compiler into
/// the bench's scratch folder. Either way a fresh checkout needs nothing but the README
/// command.
struct FloorProgram {
    let path: String
    /// "built" (the SwiftPM product) or "compiled with cc" — said in the report.
    let origin: String
    let scratch: String
    /// RAM's backing, passed to every mode that makes a VM.
    let backing: RAMBacking

    static func prepare(root: ProjectRoot, scratch: String, backing: RAMBacking) throws(BenchError) -> FloorProgram {
        let sourceFolder = root.path + "/Benchmarks/Floor"
        let sources = ((try? FileManager.default.contentsOfDirectory(atPath: sourceFolder)) ?? []).sorted().map { sourceFolder + "/" + $0 }
        let cFiles = sources.filter { $0.hasSuffix(".c") }
        guard !cFiles.isEmpty else { throw .floorUnavailable("no C sources in \(sourceFolder)") }

        if let sibling = siblingBinary(), let built = modified(sibling), sources.allSatisfy({ (modified($0) ?? .distantFuture) <= built }) {
            return FloorProgram(path: sibling, origin: "built by SwiftPM", scratch: scratch, backing: backing)
        }
        let environment = ProcessInfo.processInfo.environment
        guard let compiler = environment["CC"].flatMap(BenchProcess.find) ?? ["cc", "clang", "gcc"].lazy.compactMap(BenchProcess.find).first else {
            throw .floorUnavailable(
                "no C compiler on PATH to build Benchmarks/Floor (install gcc or clang, set CC, or run `swift build -c release --product enlighten-floor` first)"
            )
        }
        let output = scratch + "/enlighten-floor"
        let result = try BenchProcess.run(compiler, ["-O2", "-o", output] + cFiles, captureOutput: false, scratch: scratch)
        guard result.status == 0 else {
            throw .floorUnavailable("\(compiler) could not build Benchmarks/Floor:\n\(result.errorOutput)")
        }
        return FloorProgram(path: output, origin: "compiled with \(URL(fileURLWithPath: compiler).lastPathComponent) -O2", scratch: scratch, backing: backing)
    }

    /// Runs one mode of the floor and decodes the line it prints.
    func measure(_ arguments: [String]) throws(BenchError) -> FloorFigure {
        // Every mode writes guest RAM of the session's backing, memcpy's destination included.
        let ram = ["--backing", backing.kind.rawValue, "--memslot", backing.memslotCall.rawValue]
        let result = try BenchProcess.run(path, arguments + ram, captureOutput: true, scratch: scratch)
        switch result.status {
        case 0: break
        case 3: throw .hostUnavailable(result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        default: throw .floorFailed("enlighten-floor \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.errorOutput)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let line = result.output.split(separator: "\n").last,
            let figure = try? decoder.decode(FloorFigure.self, from: Data(line.utf8))
        else {
            throw .floorFailed("enlighten-floor printed no figure: \(result.output)")
        }
        return figure
    }

    /// `enlighten-floor` in the folder of the running `enlighten`, where SwiftPM puts it.
    private static func siblingBinary() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let sibling = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("enlighten-floor").path
        return FileManager.default.isExecutableFile(atPath: sibling) ? sibling : nil
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}

/// One line of the floor's output (Benchmarks/Floor/main.c prints them).
struct FloorFigure: Decodable {
    let figure: String
    let samplesNs: [UInt64]
    let medianNs: UInt64
    /// `exits`: the KVM_RUN returns of one run.
    let exits: Int?
    /// `trap`: the conversion requests the floor served in one run.
    let requests: Int?
    /// `trap-tdx`, `trap-snp`: of those, the conversions and the validations/acceptances.
    let conversions: Int?
    let validations: Int?
    /// `trap-tdx`, `trap-snp`: port writes the guest forwarded (GHCB IOIO, TDVMCALL IO).
    let forwarded: Int?
    /// `memcpy`: bytes copied per repetition.
    let bytes: UInt64?

    var samples: [Double] { samplesNs.map { Double($0) / 1e9 } }
}

/// Why the bench could not produce its figures (as opposed to a figure missing its target).
enum BenchError: Error, CustomStringConvertible {
    case hostUnavailable(String)
    case floorUnavailable(String)
    case floorFailed(String)
    case toolFailed(String)
    /// The two sides did not do the same work, so no ratio would mean anything.
    case mismatch(String)
    case runner(String)

    var description: String {
        switch self {
        case .hostUnavailable(let why), .floorUnavailable(let why), .floorFailed(let why), .toolFailed(let why), .runner(let why): why
        case .mismatch(let why): "the runner and the floor did not do the same work: \(why)"
        }
    }

    var outcome: Outcome {
        switch self {
        case .hostUnavailable, .floorUnavailable: .hostUnavailable
        case .floorFailed, .toolFailed, .mismatch, .runner: .checkFailed
        }
    }
}
