import Crypto
import Payload

/// The SEV and SEV-ES launch digests: SHA-256 over everything LAUNCH_UPDATE_DATA and
/// LAUNCH_UPDATE_VMSA encrypt, in order — the image, the kernel-hash table when there is one,
/// and (SEV-ES) one VMSA per vCPU (sev-snp-measure 0.0.13 guest.py `seves_calc_launch_digest`).
public enum SEVMeasurement {
    public static func sevDigest(of image: FirmwareImage, kernelHashes: SEVKernelHashes? = nil) throws(MeasurementError) -> [UInt8] {
        var hasher = SHA256()
        try hashImageAndTable(image, kernelHashes: kernelHashes, kind: .sev, into: &hasher)
        return Array(hasher.finalize())
    }

    /// SEV-ES: VMSAs carry SEV_FEATURES = 0 (QEMU sets none for SEV-ES).
    public static func sevESDigest(of image: FirmwareImage, vcpus: Int, vcpuSignature: UInt32,
                                   kernelHashes: SEVKernelHashes? = nil, vmm: VMMType = .qemu) throws(MeasurementError) -> [UInt8] {
        var hasher = SHA256()
        try hashImageAndTable(image, kernelHashes: kernelHashes, kind: .sevES, into: &hasher)
        for page in try sevESVMSAs(of: image, vcpus: vcpus, vcpuSignature: vcpuSignature, vmm: vmm) {
            hasher.update(data: page)
        }
        return Array(hasher.finalize())
    }

    /// The VMSAs LAUNCH_UPDATE_VMSA encrypts for an SEV-ES launch, one per vCPU.
    public static func sevESVMSAs(of image: FirmwareImage, vcpus: Int, vcpuSignature: UInt32,
                                  vmm: VMMType = .qemu) throws(MeasurementError) -> [[UInt8]] {
        guard (1...SNPMeasurement.maxVCPUs).contains(vcpus) else {
            throw .invalidOption(.sevES, "--vcpus must be between 1 and \(SNPMeasurement.maxVCPUs) (KVM_MAX_VCPUS), got \(vcpus)")
        }
        let apEIP = try apStartAddress(image, vcpus: vcpus, kind: .sevES)
        return SEVVMSA.pages(vcpus: vcpus, apEIP: apEIP, sevFeatures: 0, vcpuSignature: vcpuSignature, vmm: vmm)
    }

    /// Where APs start (the SEV-ES reset block), needed only when there are APs.
    static func apStartAddress(_ image: FirmwareImage, vcpus: Int, kind: DigestKind) throws(MeasurementError) -> UInt32? {
        guard vcpus > 1 else { return image.sevESResetBlock?.rawValue }
        if let problem = image.problems(of: .sevESResetBlock).first { throw .brokenStructure(kind, problem) }
        guard let reset = image.sevESResetBlock else {
            throw .missingStructure(kind, .sevESResetBlock, why: "application processors need its start address")
        }
        return reset.rawValue
    }

    private static func hashImageAndTable(_ image: FirmwareImage, kernelHashes: SEVKernelHashes?,
                                          kind: DigestKind, into hasher: inout SHA256) throws(MeasurementError) {
        if let problem = image.problems(of: .image).first { throw .brokenStructure(kind, problem) }
        hasher.update(data: image.bytes)
        guard let kernelHashes else { return }
        if let problem = image.problems(of: .sevHashTableBlock).first { throw .brokenStructure(kind, problem) }
        guard let area = image.sevHashTableArea, area.gpa != 0 else {
            throw .kernelHashesUnsupported(kind, why: image.sevHashTableArea == nil
                ? "the footer table has no SEV hash-table entry" : "its SEV hash-table entry names GPA 0, no area")
        }
        hasher.update(data: kernelHashes.table)
    }
}
