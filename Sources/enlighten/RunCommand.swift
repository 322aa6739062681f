import ArgumentParser
import Foundation
import HostRunner
import Measurement
import Payload

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an image or stub on /dev/kvm and report what the guest did.",
        discussion: """
            IMAGE is a linked .elf (from `enlighten build`); anything else is taken as a stub \
            (scenario name, .asm file or folder) and built first. The host creates a VM, \
            pre-populates guest RAM (guest_memfd, or its memfd stand-in: --backing) from the \
            image's plan, starts every vCPU, streams the \
            guest's log, and checks its reports: exit codes, CHECK records, and every CHECKSUM \
            against the host's own checksum of the planned bytes.

            IMAGE may also be a UEFI firmware volume such as OVMF.fd, run from reset as QEMU's \
            -bios maps it, with the PC devices it touches before PEI; it reports no exit code, \
            so the run says which milestones it reached (\(FirmwareMilestone.allCases.map(\.rawValue).joined(separator: ", "))) \
            and --until ends it, passing, at one (docs/firmware.md).

            Examples:
              enlighten run hello
              enlighten run out/hello.firmware.elf --timeout 2
              enlighten run my-stub.asm --vcpus 2 --memory 256M --json
              enlighten run /usr/share/ovmf/OVMF.fd --platform kvm --memory 512M --until memory-prepared
            """)

    @Argument(help: "A linked .elf, or a stub to build.")
    var image: String

    @Option(help: "Layout to build a stub with: direct64 or firmware.")
    var layout: Layout = .direct64

    // Numbers are read unconditionally, so `--vcpus -1` is the number -1 (refused as out of
    // range by `validate`) rather than a missing value followed by an unknown option.
    @Option(parsing: .unconditional, help: "Stop the guest after this many seconds (above 0, at most \(Int(RunOptions.maximumTimeout))).")
    var timeout: Double = 10

    @Option(help: "Guest RAM (e.g. 64M, 1G), a multiple of 2 MiB up to 3G.")
    var memory: String = "64M"

    @Option(parsing: .unconditional, help: "Number of vCPUs (1-\(RunOptions.maximumVCPUs)).")
    var vcpus: Int = 1

    @Option(
        help:
            "The confidential platform the guest is told it runs on, and so the conversion interface it uses: kvm (KVM_HC_MAP_GPA_RANGE), ghcb (SEV-SNP GHCB Page State Change) or tdx (TDVMCALL MapGPA)."
    )
    var platform: ConversionPlatform?

    @Option(help: "How conversion requests reach the host: auto (what `enlighten probe` chose), native or trap.")
    var transport: TransportChoice = .auto

    @Option(
        name: .customLong("inject-retry"), parsing: .unconditional,
        help: "TDX: answer this many MapGPA calls with TDVMCALL_STATUS_RETRY after their first 2 MiB.")
    var injectRetry = 0

    @Option(
        name: .customLong("tdx-attributes"),
        help:
            "TDX: the TD ATTRIBUTES TDG.VP.INFO reports (hex). Bit 28, SEPT_VE_DISABLE, decides what touching a page before accepting it meets: set (the default, 0x10000000, what Linux requires) stops the TD as KVM does; 0 gives the guest a #VE to handle."
    )
    var tdxAttributes: String = "0x10000000"

    @Flag(
        name: .customLong("catch-cpuid"),
        help: ArgumentHelp(
            "Catch raw CPUID as SEV-SNP and TDX hardware does (with --platform ghcb or tdx).",
            discussion:
                "KVM answers CPUID without leaving KVM_RUN, so a normal run lets a raw `cpuid` run where hardware would not: an SNP guest takes #VC 0x72 at every CPUID, a TD #VE (exit reason 10) at a leaf the TDX module does not answer (the hypervisor range 0x40000000-0x4FFFFFFF). With this flag the runner single-steps the guest and gives it that exception before the CPUID runs, as a #VC/#VE handler would meet it. Raw IN/OUT, RDMSR/WRMSR, MMIO (and a TD's HLT) fault in every ghcb/tdx run without it; a stub that wants such instructions forwarded instead calls en_forward_intercepts (docs/writing-stubs.md). Each guest instruction then costs a debug exit, about 16 us here (docs/platform-model.md §6), so use it for stubs that test their CPUID handling; a guest that sets RFLAGS.TF itself is stopped, since KVM drops a guest's TF while it single-steps."
        ))
    var catchCPUID = false

    @Option(
        name: .customLong("max-events"), parsing: .unconditional,
        help: ArgumentHelp(
            "Keep the first N events of each kind (log lines, checks, values, checksums, conversions, refusals, served requests) and count the rest (1-\(RunOptions.maximumMaxEvents)).",
            valueName: "n"))
    var maxEvents = RunOptions.defaultMaxEvents

    @Option(
        help: ArgumentHelp(
            "Firmware volumes: end the run, passing, when the firmware reaches this milestone: \(FirmwareMilestone.allCases.map { "\($0.rawValue) (\($0.meaning))" }.joined(separator: "; ")).",
            valueName: "milestone"))
    var until: FirmwareMilestone?

    @Option(
        name: .customLong("launch-omit-section"), parsing: .unconditional,
        help: ArgumentHelp(
            "Firmware volumes on ghcb or tdx: leave this metadata section out of the launch, as a buggy VMM would (an index as `enlighten inspect` numbers the platform's sections).",
            discussion:
                "The firmware's metadata asks the VMM to prepare memory before its first instruction; this checks that the firmware relies on that section and says where. On ghcb the index is an SEV metadata section and must be SNP_SEC_MEM: its pages are not zeroed or validated at launch, so they stay private and not validated, and the firmware's first access meets #VC 0x404. On tdx it is a TDVF metadata section and must be TEMP_MEM: its pages are not added, so they stay pending (the TD HOB calls them unaccepted), and the first access stops the TD (\"guest access before accepting\"). The failure names the GPA, where the instruction was, and the section. `enlighten inspect IMAGE` lists the sections (\"SEV section N\" and \"TDX section N\" in its population); the secrets, CPUID and TD_HOB sections carry contents the firmware parses and cannot be left out here. Example: enlighten run OVMF.fd --platform ghcb --launch-omit-section 1 --until memory-prepared (docs/firmware.md, \"Catching bugs\").",
            valueName: "index"))
    var launchOmitSection: Int?

    @OptionGroup var directBoot: DirectBootOptions

    @OptionGroup(title: "Host") var host: HostOptions

    @Flag(help: "Print the result as JSON instead of streaming the log.")
    var json = false

    /// Every number checked at parse time, each with its own one-line error (exit 2).
    func validate() throws { _ = try options() }

    /// The run's options as given, checked by `RunOptions.validate` (the one check every
    /// caller of the runner goes through); a bad one is a usage error (exit 2) naming it.
    func options() throws -> RunOptions {
        var options = RunOptions()
        let size = ByteSize(argument: memory)
        options.memory = size?.bytes ?? options.memory
        options.vcpus = vcpus
        options.timeout = timeout
        options.platform = platform
        options.transport = transport.forced
        options.injectRetries = injectRetry
        options.maxEvents = maxEvents
        options.until = until
        options.catchRawCPUID = catchCPUID
        options.launchOmittedSection = launchOmitSection
        do { try options.validate() } catch { throw fail(error, .inputError) }
        guard size != nil else { throw fail("--memory: cannot read '\(memory)' as a size (try 64M or 1G)", .inputError) }
        let attributesText = tdxAttributes.hasPrefix("0x") ? String(tdxAttributes.dropFirst(2)) : tdxAttributes
        guard let attributes = UInt64(attributesText, radix: 16) else {
            throw fail("--tdx-attributes: cannot read '\(tdxAttributes)' as a hex number (e.g. 0x10000000 or 0)", .inputError)
        }
        options.tdxAttributes = attributes
        return options
    }

    func run() throws {
        var options = try options()
        let loaded: Image
        do {
            // Only building has temporary files; the run itself keeps the default signal actions.
            let scope = RunScope()
            defer { scope.close() }
            loaded = try ImageArgument.load(image, layout: layout, scope: scope)
        } catch {
            throw fail(error, .inputError)
        }
        let hashes = try directBoot.hashes()
        if let hashes { options.snpKernelHashPage = try DirectBoot.page(hashes, for: loaded) }
        let handle: KVMSystemHandle
        do { handle = try KVMSystemHandle.open(host) } catch let error as RunError { throw fail(error, .hostUnavailable) }
        options.backing = handle.backing.kind
        let result: RunResult
        do {
            result = try Runner.run(
                loaded, options: options, system: handle.system, probe: handle.probe,
                sink: json ? nil : Self.logPrinter(prefixed: vcpus > 1))
        } catch {
            if error.isHostFailure { throw fail(error, .hostUnavailable) }
            throw fail(error, .inputError)
        }
        if json {
            RunReport(result, kernelHashes: hashes).stream(to: FileHandle.standardOutput)
        } else {
            RunReport.printHuman(result, kernelHashes: hashes)
        }
        // The report shows what the guest saw; the run failed for want of an option, which
        // is the user's input, not the guest's fault.
        if platform == nil, Self.gotNoInterface(result) {
            throw fail(
                "no platform: pass --platform kvm|ghcb|tdx (the guest asked to convert memory, and without a platform it has no interface to ask through)",
                .inputError)
        }
        if !result.passed || FirmwareRunLink(result, kernelHashes: hashes)?.snpDigestsAgree == false {
            throw Outcome.checkFailed.exitCode
        }
    }

    /// A CHECK got EN_ABI_ERR_NO_INTERFACE: what a guest sees when run without --platform.
    static func gotNoInterface(_ result: RunResult) -> Bool {
        result.events.contains { event in
            if case .record(_, .check(_, LibraryError.noInterface.rawValue, _, false)) = event { true } else { false }
        }
    }
}

extension Run {
    /// Streams guest log lines as they arrive.
    static func logPrinter(prefixed: Bool) -> @Sendable (RunEvent) -> Void {
        { event in
            guard case .log(let vcpu, let line) = event else { return }
            FileHandle.standardOutput.write(Data(((prefixed ? "[vcpu\(vcpu)] " : "") + line + "\n").utf8))
        }
    }
}

extension Layout: ExpressibleByArgument {}
extension ConversionPlatform: ExpressibleByArgument {}
extension FirmwareMilestone: ExpressibleByArgument {}
