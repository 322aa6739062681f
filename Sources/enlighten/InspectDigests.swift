import Measurement
import Payload

/// Every digest `inspect` computes for one image and one set of options, each either a value
/// or the reason it cannot be computed, so one broken structure never hides another digest.
struct InspectDigests {
    let snp: Result<[UInt8], MeasurementError>
    let snpUpdates: [SNPLaunchUpdate]?
    let sev: Result<[UInt8], MeasurementError>
    let sevES: Result<[UInt8], MeasurementError>
    let sevESVMSAs: [[UInt8]]?
    let mrtd: Result<[UInt8], MeasurementError>
    let imageDigest: Result<[UInt8], MeasurementError>

    init(firmware: FirmwareImage, snpOptions: SNPOptions, order: MRTDOrder) {
        let updates = Result { () throws(MeasurementError) in try SNPMeasurement.launchUpdates(of: firmware, options: snpOptions) }
        snpUpdates = try? updates.get()
        snp = updates.map { SNPMeasurement.digest(of: $0, image: firmware, options: snpOptions) }
        sev = Result { () throws(MeasurementError) in try SEVMeasurement.sevDigest(of: firmware, kernelHashes: snpOptions.kernelHashes) }
        let vmsas = Result { () throws(MeasurementError) in
            try SEVMeasurement.sevESVMSAs(of: firmware, vcpus: snpOptions.vcpus, vcpuSignature: snpOptions.vcpuSignature,
                                          vmm: snpOptions.vmm)
        }
        sevESVMSAs = try? vmsas.get()
        sevES = vmsas.flatMap { _ in
            Result { () throws(MeasurementError) in
                try SEVMeasurement.sevESDigest(of: firmware, vcpus: snpOptions.vcpus, vcpuSignature: snpOptions.vcpuSignature,
                                               kernelHashes: snpOptions.kernelHashes, vmm: snpOptions.vmm)
            }
        }
        mrtd = Result { () throws(MeasurementError) in try TDXMeasurement.mrtd(of: firmware, order: order) }
        imageDigest = Result { () throws(MeasurementError) in try SNPMeasurement.imageDigest(of: firmware) }
    }

    func result(_ kind: DigestKind) -> Result<[UInt8], MeasurementError> {
        switch kind {
        case .sev: sev
        case .sevES: sevES
        case .snp: snp
        case .mrtd: mrtd
        }
    }

    /// The VMSA pages of the launch `mode` measures (SNP unless SEV-ES is asked for).
    func vmsas(for mode: InspectMode?) -> [[UInt8]]? {
        if mode == .seves { return sevESVMSAs }
        return snpUpdates?.compactMap { update in
            guard update.type == .vmsa, case .bytes(let page) = update.contents else { return nil }
            return page
        }
    }
}
