import Payload

/// What the SNP launch digest depends on besides the image.
public struct SNPOptions: Equatable, Sendable {
    public var vcpus: Int
    /// CPUID(1).EAX of the vCPU model (see `VCPUSignature`).
    public var vcpuSignature: UInt32
    /// SEV_FEATURES in every VMSA; bit 0 (SNPActive) is what QEMU sets by default.
    public var guestFeatures: UInt64
    /// Hashes of a directly booted kernel, when there is one.
    public var kernelHashes: SEVKernelHashes?

    public init(vcpus: Int, vcpuSignature: UInt32, guestFeatures: UInt64 = 0x1, kernelHashes: SEVKernelHashes? = nil) {
        self.vcpus = vcpus
        self.vcpuSignature = vcpuSignature
        self.guestFeatures = guestFeatures
        self.kernelHashes = kernelHashes
    }
}

/// The SEV-SNP launch digest as QEMU produces it: the whole image as NORMAL pages ending at
/// 4 GiB, then each SEV metadata section in table order as its page type, then one VMSA per vCPU.
public enum SNPMeasurement {
    public static func launchDigest(of image: FirmwareImage, options: SNPOptions) throws(MeasurementError) -> [UInt8] {
        let kind = DigestKind.snp
        guard options.vcpus >= 1 else { throw .invalidOption(kind, "--vcpus must be at least 1, got \(options.vcpus)") }
        for structure in [FirmwareStructure.image, .footer, .sevMetadata] {
            if let problem = image.problems(of: structure).first { throw .brokenStructure(kind, problem) }
        }
        if options.vcpus > 1 {
            if let problem = image.problems(of: .sevESResetBlock).first { throw .brokenStructure(kind, problem) }
            if image.sevESResetBlock == nil {
                throw .missingStructure(kind, .sevESResetBlock, why: "application processors need its start address")
            }
        }

        var digest = SNPLaunchDigest()
        digest.addNormalPages(gpa: image.base, data: image.bytes)

        let sections = image.sevMetadata?.sections ?? []
        for (index, section) in sections.enumerated() {
            let gpa = UInt64(section.gpa)
            let size = UInt64(section.size)
            switch section.type {
            case .snpSecureMemory, .svsmCallingArea:
                digest.addPages(.zero, gpa: gpa, size: size)
            case .snpSecrets:
                digest.addPages(.secrets, gpa: gpa, size: UInt64(SNPLaunchDigest.pageSize))
            case .cpuid:
                digest.addPages(.cpuid, gpa: gpa, size: UInt64(SNPLaunchDigest.pageSize))
            case .kernelHashes:
                if let hashes = options.kernelHashes {
                    try addKernelHashes(hashes, section: index, gpa: gpa, size: size, image: image, to: &digest)
                } else {
                    digest.addPages(.zero, gpa: gpa, size: size)
                }
            case .unknown(let raw):
                throw .brokenStructure(kind, .unknownSEVSectionType(index: index, type: raw))
            }
        }
        if options.kernelHashes != nil, !sections.contains(where: { $0.type == .kernelHashes }) {
            throw .missingStructure(kind, .sevMetadata, why: "kernel hashes were given but no KERNEL_HASHES section says where they go")
        }

        let bsp = SEVVMSA.page(eip: SEVVMSA.resetVectorEIP, sevFeatures: options.guestFeatures,
                               vcpuSignature: options.vcpuSignature)
        digest.addVMSA(bsp)
        if options.vcpus > 1, let reset = image.sevESResetBlock {
            let ap = SEVVMSA.page(eip: reset.rawValue, sevFeatures: options.guestFeatures,
                                  vcpuSignature: options.vcpuSignature)
            for _ in 1..<options.vcpus { digest.addVMSA(ap) }
        }
        return digest.value
    }

    private static func addKernelHashes(_ hashes: SEVKernelHashes, section: Int, gpa: UInt64, size: UInt64,
                                        image: FirmwareImage, to digest: inout SNPLaunchDigest) throws(MeasurementError) {
        guard size == UInt64(SNPLaunchDigest.pageSize) else {
            throw .sectionSizeUnsupported(.snp, section: section, size: size,
                                          why: "the kernel-hash table is measured as exactly one page")
        }
        guard let area = image.sevHashTableArea else {
            throw .missingStructure(.snp, .sevHashTableBlock, why: "it gives the table's offset within its page")
        }
        guard let page = hashes.page(tableAt: Int(area.gpa & 0xFFF)) else {
            throw .sectionSizeUnsupported(.snp, section: section, size: size,
                                          why: "the hash table at offset 0x\(String(area.gpa & 0xFFF, radix: 16)) does not fit in the page")
        }
        digest.addNormalPages(gpa: gpa, data: page)
    }
}
