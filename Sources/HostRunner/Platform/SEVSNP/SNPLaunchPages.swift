import GuestPhysical
import KVM
import Payload

/// What an SNP launch puts into the special pages before the first instruction, done by the
/// runner for `--platform ghcb` firmware-layout images that carry SEV metadata: each section
/// in metadata order, after the image, as QEMU issues SNP_LAUNCH_UPDATE (target/i386/sev.c):
/// SNP_SEC_MEM and SVSM_CAA zero pages, the secrets page (filled as the PSP fills it), the
/// CPUID page (the table of exactly the CPUID the vCPU sees), and the kernel-hashes page (the
/// hash table when `run --kernel` gave one, else zero pages). Returns the pages in that order
/// with the bytes read back from guest memory, so the run's digest is of what is really there.
enum SNPLaunchPages {
    /// The image's SEV metadata when it is a firmware image that carries some, else nil (the
    /// SEV-SNP platform asks; `RunOptions.validate` refuses --kernel on any other).
    static func metadata(image: Image, options: RunOptions) throws(RunError) -> (FirmwareImage, SEVMetadata)? {
        guard image.layout == .firmware, let rom = image.romBytes() else {
            if options.snpKernelHashPage != nil { throw .invalidOptions("--kernel needs --platform ghcb and a firmware-layout image") }
            return nil
        }
        let firmware = FirmwareImage(bytes: rom)
        guard let metadata = firmware.sevMetadata else {
            if options.snpKernelHashPage != nil { throw .invalidOptions("--kernel: the image has no SEV metadata, so no SNP_KERNEL_HASHES page") }
            return nil
        }
        return (firmware, metadata)
    }

    /// `cpuid`: the CPUID vCPU 0 sees (`ObservedCPUID`), for the CPUID page and the secrets FMS.
    static func populate(
        _ firmware: FirmwareImage, _ metadata: SEVMetadata, memory: GuestMemory, cpuid: [CPUIDEntry],
        options: RunOptions
    ) throws(RunError) -> [LaunchPage] {
        let romRange = GPARange(start: firmware.base, end: FirmwareImage.fourGiB)
        var pages = [LaunchPage(kind: .normal, range: romRange, contents: try readBack(romRange, memory), source: .image)]
        var hashPageUsed = false
        for (index, section) in metadata.sections.enumerated() {
            // Left out as a buggy VMM would (`--launch-omit-section`, an SNP_SEC_MEM section):
            // no SNP_LAUNCH_UPDATE, so its pages stay as all other RAM, private and not validated.
            if index == options.launchOmittedSection { continue }
            let source = LaunchPage.Source.sevSection(index: index, section.type)
            let range = GPARange(start: UInt64(section.gpa), end: UInt64(section.gpa) + UInt64(section.size))
            let page = GPARange(start: range.start, end: range.start + UInt64(SNPCPUIDPage.pageSize))
            switch section.type {
            case .snpSecureMemory, .svsmCallingArea:
                try write(nil, to: range, memory)
                pages.append(LaunchPage(kind: .zero, range: range, contents: nil, source: source))
            case .snpSecrets:
                let fms = cpuid.first { $0.function == 1 }?.eax ?? 0
                try write(SNPSecretsPage.page(fms: fms), to: page, memory)
                pages.append(LaunchPage(kind: .secrets, range: page, contents: try readBack(page, memory), source: source))
            case .cpuid:
                var table: [UInt8]
                do { table = try SNPCPUIDPage.page(cpuid) } catch { throw .invalidOptions("SNP CPUID page: \(error)") }
                if let fault = options.launchFault { fault.apply(to: &table) }
                try write(table, to: page, memory)
                pages.append(LaunchPage(kind: .cpuid, range: page, contents: try readBack(page, memory), source: source))
            case .kernelHashes:
                if let hashPage = options.snpKernelHashPage, range.size == UInt64(hashPage.count) {
                    try write(hashPage, to: range, memory)
                    hashPageUsed = true
                    pages.append(
                        LaunchPage(
                            kind: .normal, range: range, contents: try readBack(range, memory),
                            source: .sevSection(index: index, section.type, kernelHashTable: true)))
                } else {
                    if options.snpKernelHashPage != nil {
                        throw .invalidOptions("--kernel: SNP_KERNEL_HASHES section \(index) is \(hex(range.size)) bytes, not one page")
                    }
                    try write(nil, to: range, memory)
                    pages.append(LaunchPage(kind: .zero, range: range, contents: nil, source: source))
                }
            case .unknown(let raw):
                throw .invalidOptions("SEV metadata section \(index) has unknown type \(hex(raw)): no VMM can populate it")
            }
        }
        if options.snpKernelHashPage != nil, !hashPageUsed {
            throw .invalidOptions("--kernel: the image's SEV metadata has no SNP_KERNEL_HASHES section")
        }
        return pages
    }

    private static func write(_ bytes: [UInt8]?, to range: GPARange, _ memory: GuestMemory) throws(RunError) {
        guard memory.contains(range.start, count: Int(range.size)) else {
            throw .planExceedsMemory(needed: range.end, available: memory.regions.map(\.range.end).max() ?? 0)
        }
        if let bytes { memory.write(bytes, at: range.start) } else { memory.zero(at: range.start, count: Int(range.size)) }
    }

    private static func readBack(_ range: GPARange, _ memory: GuestMemory) throws(RunError) -> [UInt8] {
        guard let bytes = memory.read(at: range.start, count: Int(range.size)) else {
            throw .planExceedsMemory(needed: range.end, available: memory.regions.map(\.range.end).max() ?? 0)
        }
        return bytes
    }
}
