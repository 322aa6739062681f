import Payload

/// What the SNP launch digest depends on besides the image.
public struct SNPOptions: Equatable, Sendable {
    public var vcpus: Int
    /// CPUID(1).EAX of the vCPU model (see `VCPUSignature`); only QEMU's VMSAs carry it.
    public var vcpuSignature: UInt32
    /// SEV_FEATURES in every VMSA; bit 0 (SNPActive) is what QEMU sets by default.
    public var guestFeatures: UInt64
    /// Hashes of a directly booted kernel, when there is one.
    public var kernelHashes: SEVKernelHashes?
    /// Whose VMSAs and page order to assume.
    public var vmm: VMMType
    /// A precomputed digest of the image's NORMAL pages (sev-snp-measure `--snp-ovmf-hash`):
    /// the launch starts from it instead of hashing the image.
    public var imageDigest: [UInt8]?

    public init(
        vcpus: Int, vcpuSignature: UInt32, guestFeatures: UInt64 = 0x1, kernelHashes: SEVKernelHashes? = nil,
        vmm: VMMType = .qemu, imageDigest: [UInt8]? = nil
    ) {
        self.vcpus = vcpus
        self.vcpuSignature = vcpuSignature
        self.guestFeatures = guestFeatures
        self.kernelHashes = kernelHashes
        self.vmm = vmm
        self.imageDigest = imageDigest
    }
}

/// The SEV-SNP launch as QEMU (and, per `VMMType`, EC2 and GCE) performs it: the whole image as
/// NORMAL pages ending at 4 GiB, then each SEV metadata section in table order as its page type,
/// then one VMSA per vCPU (sev-snp-measure 0.0.13 guest.py `snp_calc_launch_digest`).
public enum SNPMeasurement {
    /// The most vCPUs a VM may have: KVM_MAX_VCPUS, 4096 with CONFIG_MAXSMP and 1024 otherwise
    /// (Linux arch/x86/include/asm/kvm_host.h). SNP and TDX guests are KVM VMs, so no launch
    /// has more VMSAs (or TDX vCPUs) than this.
    public static let maxVCPUs = 4096

    public static func launchDigest(of image: FirmwareImage, options: SNPOptions) throws(MeasurementError) -> [UInt8] {
        try digest(of: try launchUpdates(of: image, options: options), image: image, options: options)
    }

    /// The digest of `updates` as the PSP computes it, starting from `options.imageDigest` when
    /// given. `imagePagesDigest`, the digest of the image's own pages (`imageDigest(of:)`) when
    /// the caller has it already, stands for the first update when that is the whole image, so
    /// `inspect` hashes the image once for both.
    public static func digest(
        of updates: [SNPLaunchUpdate], image: FirmwareImage, options: SNPOptions,
        imagePagesDigest: [UInt8]? = nil
    ) throws(MeasurementError) -> [UInt8] {
        var digest = options.imageDigest.map { SNPLaunchDigest(seed: $0) } ?? SNPLaunchDigest()
        var rest = updates[...]
        if options.imageDigest == nil, let imagePagesDigest, let first = rest.first, first.contents == .image(fileOffset: 0),
            first.gpa == image.base, first.size == UInt64(image.size)
        {
            digest = SNPLaunchDigest(seed: imagePagesDigest)
            rest = rest.dropFirst()
        }
        for update in rest {
            do { try digest.apply(update, image: image.contents) } catch { throw .brokenStructure(.snp, error) }
        }
        return digest.value
    }

    /// The digest of the image's NORMAL pages alone (sev-snp-measure `--mode snp:ovmf-hash`).
    public static func imageDigest(of image: FirmwareImage) throws(MeasurementError) -> [UInt8] {
        if let problem = image.problems(of: .image).first { throw .brokenStructure(.snp, problem) }
        var digest = SNPLaunchDigest()
        do { try digest.addNormalPages(gpa: image.base, image: image.contents, range: 0..<image.size) } catch {
            throw .brokenStructure(.snp, error)
        }
        return digest.value
    }

    /// Every SNP_LAUNCH_UPDATE of the launch, in order. With `options.imageDigest` the image's
    /// own pages are left out (the seed stands for them).
    public static func launchUpdates(of image: FirmwareImage, options: SNPOptions) throws(MeasurementError) -> [SNPLaunchUpdate] {
        let kind = DigestKind.snp
        guard (1...maxVCPUs).contains(options.vcpus) else {
            throw .invalidOption(kind, "--vcpus must be between 1 and \(maxVCPUs) (KVM_MAX_VCPUS), got \(options.vcpus)")
        }
        if let seed = options.imageDigest, seed.count != SNPLaunchDigest.size {
            throw .invalidOption(kind, "the image digest must be \(SNPLaunchDigest.size) bytes, got \(seed.count)")
        }
        for structure in [FirmwareStructure.image, .footer, .sevMetadata] {
            if let problem = image.problems(of: structure).first { throw .brokenStructure(kind, problem) }
        }
        let apEIP = try SEVMeasurement.apStartAddress(image, vcpus: options.vcpus, kind: kind)

        var updates: [SNPLaunchUpdate] = []
        if options.imageDigest == nil {
            updates.append(
                SNPLaunchUpdate(
                    type: .normal, gpa: image.base, size: UInt64(image.size),
                    contents: .image(fileOffset: 0), source: "image"))
        }
        let sections = image.sevMetadata?.sections ?? []
        var deferredCPUID: [SNPLaunchUpdate] = []
        for (index, section) in sections.enumerated() {
            let gpa = UInt64(section.gpa)
            let size = UInt64(section.size)
            let source = "SEV section \(index) (\(section.type))"
            func pages(_ type: SNPPageType, size: UInt64 = size) -> SNPLaunchUpdate {
                SNPLaunchUpdate(type: type, gpa: gpa, size: size, contents: .none, source: source)
            }
            switch section.type {
            case .snpSecureMemory:
                // GCE leaves SNP_SEC_MEM unmeasured (guest.py `snp_update_section`).
                updates.append(pages(options.vmm == .gce ? .unmeasured : .zero))
            case .svsmCallingArea:
                updates.append(pages(.zero))
            case .snpSecrets:
                updates.append(pages(.secrets, size: UInt64(SNPLaunchDigest.pageSize)))
            case .cpuid:
                // EC2 adds the CPUID page after every other section (guest.py
                // `snp_update_metadata_pages`).
                let update = pages(.cpuid, size: UInt64(SNPLaunchDigest.pageSize))
                if options.vmm == .ec2 { deferredCPUID.append(update) } else { updates.append(update) }
            case .kernelHashes:
                if let hashes = options.kernelHashes {
                    let page = try kernelHashPage(hashes, section: index, size: size, image: image)
                    updates.append(
                        SNPLaunchUpdate(
                            type: .normal, gpa: gpa, size: size, contents: .bytes(page),
                            source: source + ", the kernel/initrd/cmdline hash table"))
                } else {
                    updates.append(pages(.zero))
                }
            case .unknown(let raw):
                throw .brokenStructure(kind, .unknownSEVSectionType(index: index, type: raw))
            }
        }
        updates += deferredCPUID
        if options.kernelHashes != nil, !sections.contains(where: { $0.type == .kernelHashes }) {
            throw .kernelHashesUnsupported(
                kind,
                why: image.sevMetadata == nil
                    ? "the image has no SEV metadata, so no SNP_KERNEL_HASHES section"
                    : "its SEV metadata has no SNP_KERNEL_HASHES section")
        }

        let vmsas = SEVVMSA.pages(
            vcpus: options.vcpus, apEIP: apEIP, sevFeatures: options.guestFeatures,
            vcpuSignature: options.vcpuSignature, vmm: options.vmm)
        for (index, page) in vmsas.enumerated() {
            updates.append(
                SNPLaunchUpdate(
                    type: .vmsa, gpa: SNPLaunchDigest.vmsaGPA, size: UInt64(SNPLaunchDigest.pageSize),
                    contents: .bytes(page),
                    source: index == 0 ? "VMSA of vCPU 0 (BSP)" : "VMSA of vCPU \(index) (AP)"))
        }
        return updates
    }

    /// The hash-table page: the table at the offset within its page of the GPA the hash-table
    /// footer entry names (guest.py `snp_update_kernel_hashes`).
    private static func kernelHashPage(
        _ hashes: SEVKernelHashes, section: Int, size: UInt64,
        image: FirmwareImage
    ) throws(MeasurementError) -> [UInt8] {
        guard size == UInt64(SNPLaunchDigest.pageSize) else {
            throw .sectionSizeUnsupported(
                .snp, section: section, size: size,
                why: "the kernel-hash table is measured as exactly one page")
        }
        if let problem = image.problems(of: .sevHashTableBlock).first { throw .brokenStructure(.snp, problem) }
        guard let area = image.sevHashTableArea else {
            throw .kernelHashesUnsupported(.snp, why: "it has an SNP_KERNEL_HASHES section but no SEV hash-table footer entry giving the table's place in it")
        }
        guard let page = hashes.page(tableAt: Int(area.gpa & 0xFFF)) else {
            throw .sectionSizeUnsupported(
                .snp, section: section, size: size,
                why: "the hash table at offset 0x\(String(area.gpa & 0xFFF, radix: 16)) does not fit in the page")
        }
        return page
    }
}
