import ArgumentParser
import GuestPhysical
import Measurement
import Payload

/// `--kernel/--initrd/--append`, shared by `inspect` and `run` and spelled as sev-snp-measure
/// and QEMU spell them.
struct DirectBootOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Kernel of a measured direct boot: its hash goes into the SNP_KERNEL_HASHES page (run: --platform ghcb, firmware layout). A regular file of at most 4 GiB.",
            valueName: "PATH"))
    var kernel: String?

    @Option(help: ArgumentHelp("Initrd of the direct boot (with --kernel); a regular file of at most 4 GiB.", valueName: "PATH"))
    var initrd: String?

    @Option(help: ArgumentHelp("Kernel command line of the direct boot (with --kernel).", valueName: "CMDLINE"))
    var append: String?

    func validate() throws {
        if initrd != nil, kernel == nil { throw ValidationError("--kernel required when using --initrd") }
        if append != nil, kernel == nil { throw ValidationError("--kernel required when using --append") }
    }

    /// The hash table's inputs hashed, or nil without --kernel.
    func hashes() throws -> SEVKernelHashes? {
        guard let kernel else { return nil }
        do { return try SEVKernelHashes(kernelFile: kernel, initrdFile: initrd, commandLine: append) } catch {
            throw fail(error, .inputError)
        }
    }
}

/// `--kernel/--initrd/--append`: the SEV kernel-hash table of a measured direct boot, and the
/// page `run` writes into the image's SNP_KERNEL_HASHES section (the table at the offset the
/// SEV hash-table footer entry gives, as QEMU places it).
enum DirectBoot {
    static func page(_ hashes: SEVKernelHashes, for image: Image) throws -> [UInt8] {
        guard let rom = image.romBytes(), let area = FirmwareImage(bytes: rom).sevHashTableArea else {
            throw fail("--kernel: \(image.name) has no SEV hash-table area (a firmware-layout image from `enlighten build` has one)", .inputError)
        }
        guard let page = hashes.page(tableAt: Int(area.gpa & 0xFFF)) else {
            throw fail("--kernel: the hash table does not fit in its page at offset \(hex(area.gpa & 0xFFF))", .inputError)
        }
        return page
    }
}
