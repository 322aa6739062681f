import Crypto
import Payload

/// The SEV and SEV-ES launch digests: SHA-256 over everything LAUNCH_UPDATE_DATA and
/// LAUNCH_UPDATE_VMSA encrypt, in order — the image, the kernel-hash table when there is one,
/// and (SEV-ES) one VMSA per vCPU (sev-snp-measure 0.0.13 guest.py `seves_calc_launch_digest`).
public enum SEVMeasurement {
    /// SHA-256 over the image's bytes, read piece by piece: the state both digests continue from,
    /// so a caller computing both (`inspect`) reads and hashes the image once.
    public struct ImageHash {
        fileprivate let hasher: SHA256
    }

    public static func imageHash(of image: FirmwareImage) throws(FirmwareError) -> ImageHash {
        if let problem = image.problems(of: .image).first { throw problem }
        var hasher = SHA256()
        try image.contents.forEachPiece(in: 0..<image.size) { hasher.update(bufferPointer: $0) }
        return ImageHash(hasher: hasher)
    }

    public static func sevDigest(
        of image: FirmwareImage, kernelHashes: SEVKernelHashes? = nil,
        imageHash: ImageHash? = nil
    ) throws(MeasurementError) -> [UInt8] {
        let hasher = try hashImageAndTable(image, kernelHashes: kernelHashes, imageHash: imageHash, kind: .sev)
        return Array(hasher.finalize())
    }

    /// SEV-ES: VMSAs carry SEV_FEATURES = 0 (QEMU sets none for SEV-ES).
    public static func sevESDigest(
        of image: FirmwareImage, vcpus: Int, vcpuSignature: UInt32,
        kernelHashes: SEVKernelHashes? = nil, vmm: VMMType = .qemu,
        imageHash: ImageHash? = nil
    ) throws(MeasurementError) -> [UInt8] {
        var hasher = try hashImageAndTable(image, kernelHashes: kernelHashes, imageHash: imageHash, kind: .sevES)
        for page in try sevESVMSAs(of: image, vcpus: vcpus, vcpuSignature: vcpuSignature, vmm: vmm) {
            hasher.update(data: page)
        }
        return Array(hasher.finalize())
    }

    /// The VMSAs LAUNCH_UPDATE_VMSA encrypts for an SEV-ES launch, one per vCPU.
    public static func sevESVMSAs(
        of image: FirmwareImage, vcpus: Int, vcpuSignature: UInt32,
        vmm: VMMType = .qemu
    ) throws(MeasurementError) -> [[UInt8]] {
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

    private static func hashImageAndTable(
        _ image: FirmwareImage, kernelHashes: SEVKernelHashes?, imageHash: ImageHash?,
        kind: DigestKind
    ) throws(MeasurementError) -> SHA256 {
        var hasher: SHA256
        if let imageHash {
            hasher = imageHash.hasher
        } else {
            do { hasher = try self.imageHash(of: image).hasher } catch { throw .brokenStructure(kind, error) }
        }
        guard let kernelHashes else { return hasher }
        if let problem = image.problems(of: .sevHashTableBlock).first { throw .brokenStructure(kind, problem) }
        guard let area = image.sevHashTableArea, area.gpa != 0 else {
            throw .kernelHashesUnsupported(
                kind,
                why: image.sevHashTableArea == nil
                    ? "the footer table has no SEV hash-table entry" : "its SEV hash-table entry names GPA 0, no area")
        }
        hasher.update(data: kernelHashes.table)
        return hasher
    }
}
