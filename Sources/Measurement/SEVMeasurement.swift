import Crypto
import Payload

/// The SEV and SEV-ES launch digests: SHA-256 over everything LAUNCH_UPDATE_DATA and
/// LAUNCH_UPDATE_VMSA encrypt, in order — the image, the kernel-hash table when there is one,
/// and (SEV-ES) one VMSA per vCPU.
public enum SEVMeasurement {
    public static func sevDigest(of image: FirmwareImage, kernelHashes: SEVKernelHashes? = nil) throws(MeasurementError) -> [UInt8] {
        var hasher = SHA256()
        try hashImageAndTable(image, kernelHashes: kernelHashes, kind: .sev, into: &hasher)
        return Array(hasher.finalize())
    }

    /// SEV-ES: VMSAs carry SEV_FEATURES = 0 (QEMU sets none for SEV-ES).
    public static func sevESDigest(of image: FirmwareImage, vcpus: Int, vcpuSignature: UInt32,
                                   kernelHashes: SEVKernelHashes? = nil) throws(MeasurementError) -> [UInt8] {
        guard vcpus >= 1 else { throw .invalidOption(.sevES, "--vcpus must be at least 1, got \(vcpus)") }
        var hasher = SHA256()
        try hashImageAndTable(image, kernelHashes: kernelHashes, kind: .sevES, into: &hasher)
        hasher.update(data: SEVVMSA.page(eip: SEVVMSA.resetVectorEIP, sevFeatures: 0, vcpuSignature: vcpuSignature))
        if vcpus > 1 {
            if let problem = image.problems(of: .sevESResetBlock).first { throw .brokenStructure(.sevES, problem) }
            guard let reset = image.sevESResetBlock else {
                throw .missingStructure(.sevES, .sevESResetBlock, why: "application processors need its start address")
            }
            let ap = SEVVMSA.page(eip: reset.rawValue, sevFeatures: 0, vcpuSignature: vcpuSignature)
            for _ in 1..<vcpus { hasher.update(data: ap) }
        }
        return Array(hasher.finalize())
    }

    private static func hashImageAndTable(_ image: FirmwareImage, kernelHashes: SEVKernelHashes?,
                                          kind: DigestKind, into hasher: inout SHA256) throws(MeasurementError) {
        if let problem = image.problems(of: .image).first { throw .brokenStructure(kind, problem) }
        hasher.update(data: image.bytes)
        guard let kernelHashes else { return }
        if let problem = image.problems(of: .sevHashTableBlock).first { throw .brokenStructure(kind, problem) }
        guard let area = image.sevHashTableArea, area.gpa != 0 else {
            throw .missingStructure(kind, .sevHashTableBlock, why: "kernel hashes were given but the firmware names no area for them")
        }
        hasher.update(data: kernelHashes.table)
    }
}
