import ArgumentParser
import Foundation
import Measurement
import Payload

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a firmware image's footer tables, the population they direct and its launch digests.",
        discussion: """
            IMAGE is an x86 firmware volume whose last byte sits at 4 GiB − 1: Debian's OVMF.fd \
            or a firmware-layout NAME.firmware.bin from `enlighten build`. Prints the reset-vector \
            GUID table, the SEV and TDX metadata, what a VMM populates before the first \
            instruction (and what of it the measurement records), and the SEV, SEV-ES and SEV-SNP \
            launch digests and the TDX MRTD. A digest that cannot be computed is reported (null \
            in JSON) with the reason.

            The options a launch digest depends on are spelled as sev-snp-measure 0.0.13 spells \
            them (--ovmf, --mode, --vcpus, --vcpu-type, --vcpu-sig, --vcpu-family/-model/-stepping, \
            --vmm-type, --guest-features, --kernel, --initrd, --append, --output-format, \
            --snp-ovmf-hash, --dump-vmsa, -v), so a script that calls sev-snp-measure runs \
            unchanged with `enlighten inspect` in its place. --mode prints only that digest, one \
            line, for `$(…)`. Numbers take 0x (hex), 0o, 0b or decimal, as sev-snp-measure reads them.

            Bounds: IMAGE, --kernel and --initrd must be regular files (a FIFO, a device or a \
            directory is refused before it is opened) of at most 4 GiB. IMAGE is read in 1 MiB \
            pieces, never whole: memory stays under 64 MiB. Tables are checked before anything \
            is hashed: at most 4096 sections; none empty; no two overlapping (nor, SEV, over the \
            image); TDX memory added before launch at most 1 GiB a section and 4 GiB in all, and \
            extended memory at most the image's size. So a digest covers at most 2^20 pages and \
            the image once: seconds for any file up to 4 GiB (about 40 s for a 4 GiB volume \
            extended whole, on 2 cores; docs/measurement.md).

            Exit codes: 0 the requested digest (with --mode) or every table and digest was \
            computed; 1 it could not be (the reason is printed); 2 bad options or a file that is \
            not a firmware volume.

            Examples:
              enlighten inspect /usr/share/ovmf/OVMF.fd --vcpus 4 --vcpu-type EPYC-Milan
              enlighten inspect --mode snp --vcpus 2 --vmm-type ec2 --ovmf /usr/share/ovmf/OVMF.fd
              enlighten inspect out/hello.firmware.bin --mode snp --kernel bzImage --append console=ttyS0
              enlighten inspect out/hello.firmware.bin --json --mrtd-order two-pass
            """)

    @Argument(help: "The firmware image (or give it with --ovmf).")
    var image: String?

    @Option(help: ArgumentHelp("The firmware image, as sev-snp-measure names it.", valueName: "PATH"))
    var ovmf: String?

    @Option(help: ArgumentHelp("Print only this digest, one line (sev-es, sev-snp and upper case are read too).", valueName: "MODE"))
    var mode: InspectMode?

    @Flag(name: [.customShort("v"), .long], help: "With --mode: 'Calculated MODE guest measurement: DIGEST', as sev-snp-measure -v prints it.")
    var verbose = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    // .unconditional: "-1" is read as a number and refused as out of range, not as a flag.
    @Option(
        parsing: .unconditional, help: ArgumentHelp("vCPUs, one VMSA each in the SEV-ES and SEV-SNP digests (1-\(SNPMeasurement.maxVCPUs)).", valueName: "N"))
    var vcpus = 1

    @Option(
        help: ArgumentHelp(
            "QEMU CPU model whose signature goes into the VMSA: \(VCPUSignature.namedModels.keys.sorted().joined(separator: ", ")). Default EPYC-v4 under QEMU.",
            valueName: "CPUTYPE"))
    var vcpuType: String?

    @Option(help: ArgumentHelp("CPUID(1).EAX signature of the vCPU, instead of --vcpu-type.", valueName: "VALUE"))
    var vcpuSig: String?

    @Option(help: ArgumentHelp("vCPU family, with --vcpu-model and --vcpu-stepping, instead of --vcpu-type.", valueName: "FAMILY"))
    var vcpuFamily: Int?

    @Option(help: ArgumentHelp("vCPU model (with --vcpu-family).", valueName: "MODEL"))
    var vcpuModel: Int?

    @Option(help: ArgumentHelp("vCPU stepping (with --vcpu-family).", valueName: "STEPPING"))
    var vcpuStepping: Int?

    @Option(help: ArgumentHelp("Whose VMSAs and page order: QEMU, ec2 or gce (any case).", valueName: "VMMTYPE"))
    var vmmType = "QEMU"

    @Option(help: ArgumentHelp("SEV_FEATURES of the SNP VMSAs.", valueName: "VALUE"))
    var guestFeatures = "0x1"

    @OptionGroup var directBoot: DirectBootOptions

    @Option(help: "How digests are printed: hex or base64.")
    var outputFormat: DigestFormat = .hex

    @Option(
        name: .customLong("snp-ovmf-hash"),
        help: ArgumentHelp("SNP: start from this precomputed digest of the image's pages (hex, 48 bytes) instead of hashing the image.", valueName: "HASH"))
    var snpOVMFHash: String?

    @Option(
        name: .customLong("dump-vmsa"),
        help: ArgumentHelp("Write the measured VMSAs to DIR/vmsa0.bin, vmsa1.bin, … (SNP's, or SEV-ES's with --mode seves).", valueName: "DIR"))
    var dumpVMSA: String?

    @Option(help: "The order of PAGE.ADD and MR.EXTEND: interleaved or two-pass.")
    var mrtdOrder: MRTDOrder = .interleaved

    func validate() throws {
        if (image == nil) == (ovmf == nil) { throw ValidationError("give the firmware image once: as IMAGE or with --ovmf") }
        // One line and exit 2 before any work: a huge count once made inspect spin building VMSAs.
        guard (1...SNPMeasurement.maxVCPUs).contains(vcpus) else {
            throw fail(
                "--vcpus must be between 1 and \(SNPMeasurement.maxVCPUs) (KVM_MAX_VCPUS, the most an SNP or TDX guest can have), got \(vcpus)", .inputError)
        }
        if verbose, mode == nil { throw ValidationError("-v/--verbose goes with --mode") }
        if snpOVMFHash != nil, mode != nil, mode != .snp { throw ValidationError("--snp-ovmf-hash only works with --mode snp") }
        if dumpVMSA != nil, let mode, mode != .snp, mode != .seves {
            throw ValidationError("--dump-vmsa needs the VMSAs of --mode snp or seves; --mode \(mode.rawValue) measures none")
        }
        _ = try vmm()
        _ = try signature()
        _ = try features()
        _ = try imageSeed()
    }

    private var imagePath: String { image ?? ovmf ?? "" }

    private func vmm() throws -> VMMType {
        guard let value = VMMType(name: vmmType) else {
            throw ValidationError("unknown --vmm-type '\(vmmType)' (known: \(VMMType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }

    /// sev-snp-measure's precedence is family, then signature, then type; we refuse a mix
    /// rather than silently ignore part of it.
    private func signature() throws -> UInt32 {
        let given = [vcpuFamily != nil, vcpuSig != nil, vcpuType != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give one of --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping") }
        if vcpuFamily == nil, vcpuModel != nil || vcpuStepping != nil {
            throw ValidationError("--vcpu-model and --vcpu-stepping go with --vcpu-family")
        }
        if let vcpuFamily {
            guard let vcpuModel, let vcpuStepping else {
                throw ValidationError("--vcpu-family needs --vcpu-model and --vcpu-stepping too")
            }
            // CPUID Fn0000_0001_EAX: family up to 0xF + 0xFF, model 8 bits, stepping 4 bits.
            guard (0...0x10E).contains(vcpuFamily), (0...0xFF).contains(vcpuModel), (0...0xF).contains(vcpuStepping) else {
                throw ValidationError("--vcpu-family must be 0-270, --vcpu-model 0-255 and --vcpu-stepping 0-15 (CPUID(1).EAX fields)")
            }
            return VCPUSignature.make(family: vcpuFamily, model: vcpuModel, stepping: vcpuStepping)
        }
        if let vcpuSig {
            guard let value = AutoBaseInteger.parse(vcpuSig), let sig = UInt32(exactly: value) else {
                throw ValidationError("--vcpu-sig '\(vcpuSig)' is not a 32-bit number")
            }
            return sig
        }
        let name = vcpuType ?? "EPYC-v4"
        guard let value = VCPUSignature.named(name) else {
            let known = VCPUSignature.namedModels.keys.sorted().joined(separator: ", ")
            throw ValidationError("unknown --vcpu-type '\(name)' (known: \(known))")
        }
        return value
    }

    private func features() throws -> UInt64 {
        guard let value = AutoBaseInteger.parse(guestFeatures) else {
            throw ValidationError("--guest-features '\(guestFeatures)' is not a 64-bit number")
        }
        return value
    }

    private func imageSeed() throws -> [UInt8]? {
        guard let snpOVMFHash else { return nil }
        guard let bytes = HexBytes.parse(snpOVMFHash), bytes.count == SNPLaunchDigest.size else {
            throw ValidationError("--snp-ovmf-hash must be \(SNPLaunchDigest.size) bytes in hex (96 digits)")
        }
        return bytes
    }

    func run() throws {
        let path = imagePath
        let contents: FirmwareContents
        do { contents = try FirmwareFile.open(path) } catch { throw fail(error, .inputError) }
        switch FirmwareFileKind(contents) {
        case .elf:
            throw fail("\(path) is an ELF; pass NAME.firmware.bin, the firmware-layout ROM `enlighten build` writes beside it", .inputError)
        case .unknown where contents.count < FooterTable.bytesAfterTable + FooterTable.entryHeaderSize:
            throw fail("\(path) is \(contents.count) bytes, too small for a firmware volume (its reset-vector table ends 32 bytes before the end)", .inputError)
        default:
            break
        }
        let hashes = try directBoot.hashes()
        let firmware = FirmwareImage(contents: contents)
        let options = SNPOptions(
            vcpus: vcpus, vcpuSignature: try signature(), guestFeatures: try features(),
            kernelHashes: hashes, vmm: try vmm(), imageDigest: try imageSeed())
        let digests = InspectDigests(firmware: firmware, snpOptions: options, order: mrtdOrder, mode: mode)

        if let dumpVMSA { try dump(digests.vmsas(for: mode), to: dumpVMSA, digests: digests) }
        if let mode { return try printOne(mode, digests) }

        let report = InspectReport(
            path: path, firmware: firmware, options: options, order: mrtdOrder,
            digests: digests, format: outputFormat)
        if json { try printJSON(report) } else { report.printText() }
        if report.failed { throw Outcome.checkFailed.exitCode }
    }

    /// The one-line mode: the digest alone, or its reason on stderr and exit 1.
    private func printOne(_ mode: InspectMode, _ digests: InspectDigests) throws {
        guard let result = mode.digest.map({ digests.result($0) }) ?? digests.imageDigest else {
            throw fail("--mode \(mode.rawValue): the digest was not computed", .checkFailed)
        }
        switch result {
        case .success(let digest) where mode == .snpOVMFHash:
            // sev-snp-measure prints this seed as bare hex whatever --output-format and -v say.
            say(DigestFormat.hex.render(digest))
        case .success(let digest):
            let text = outputFormat.render(digest)
            say(verbose ? "Calculated \(mode.verboseName) guest measurement: \(text)" : text)
        case .failure(let error):
            throw fail(error, .checkFailed)
        }
    }

    /// Writes vmsa<N>.bin as sev-snp-measure --dump-vmsa does, into `directory`.
    private func dump(_ pages: [[UInt8]]?, to directory: String, digests: InspectDigests) throws {
        guard let pages else {
            let why: MeasurementError? = digests.result(mode == .seves ? .sevES : .snp)?.failure
            throw fail("--dump-vmsa: no VMSAs to write: \(why.map(\.description) ?? "the digest was not computed")", .checkFailed)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (index, page) in pages.enumerated() {
                try Data(page).write(to: URL(fileURLWithPath: directory).appendingPathComponent("vmsa\(index).bin"))
            }
        } catch {
            throw fail("--dump-vmsa: cannot write into \(directory): \(FileProblem.reason(error))", .inputError)
        }
    }
}

extension MRTDOrder: ExpressibleByArgument {}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
