import ArgumentParser
import Conformance
import Foundation

@main
struct Enlighten: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enlighten",
        abstract: "Build, run and check confidential-VM memory conversion on KVM.",
        discussion: """
            Guest stubs (nasm) ask the host to convert memory between private and shared through \
            the three real interfaces: KVM_HC_MAP_GPA_RANGE, the SEV-SNP GHCB Page State Change \
            and TDX TDVMCALL MapGPA. Enlighten builds them into images with a population plan, \
            pre-populates guest RAM (guest_memfd where the kernel offers it, else a memfd), runs \
            them on /dev/kvm and checks every conversion.

            Exit codes: 0 pass, 1 a check failed, 2 usage or input error, 3 the host cannot run it.
            `--json` on any command prints JSON on stdout instead of the human output.
            """,
        version: ToolVersion.current,
        subcommands: [ConformanceRun.self, Probe.self, Build.self, Run.self, Inspect.self, Bench.self])

    /// ArgumentParser exits 64 on usage errors; Enlighten promises 2 for every input error.
    static func main() {
        // Ignored, SIGXFSZ no longer kills the process at a file-size limit (RLIMIT_FSIZE)
        // before it can say anything: the write fails with EFBIG instead, and the command
        // reports it (setrlimit(2): the signal "by default … terminates a process").
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Outcome.inputError.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// The exit codes every command shares.
enum Outcome: Int32 {
    case pass = 0
    case checkFailed = 1
    case inputError = 2
    case hostUnavailable = 3

    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// One line on stderr, `error: …`, and the exit code that goes with it.
func fail(_ message: CustomStringConvertible, _ outcome: Outcome) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return outcome.exitCode
}

/// One line on stdout, unbuffered, so progress interleaves correctly with streamed lines.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}
