import Measurement
import Payload

/// `--kernel/--initrd/--append`: the SEV kernel-hash table of a measured direct boot, and the
/// page `run` writes into the image's SNP_KERNEL_HASHES section (the table at the offset the
/// SEV hash-table footer entry gives, as QEMU places it).
enum DirectBoot {
    static func hashes(kernel: String?, initrd: String?, append: String?) throws -> SEVKernelHashes? {
        guard let kernel else {
            if initrd != nil { throw fail("--kernel required when using --initrd", .inputError) }
            if append != nil { throw fail("--kernel required when using --append", .inputError) }
            return nil
        }
        do { return try SEVKernelHashes(kernelFile: kernel, initrdFile: initrd, commandLine: append) } catch {
            throw fail(error, .inputError)
        }
    }

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
