import Foundation
import Measurement
import Payload

/// The digests `inspect` computes for one image and one set of options, each either a value or
/// the reason it cannot be computed, so one broken structure never hides another digest. Only
/// what is asked for is computed (one digest with --mode, all four for the report), and the
/// image is hashed once per hash function: the SEV and SEV-ES digests continue one SHA-256 of
/// it, and the SNP launch digest continues from the digest of its pages (--mode snp:ovmf-hash).
/// The SNP chain, the MRTD and the SEV hash are independent sequential hashes, so they run side
/// by side: the report of a 4 GiB volume takes about as long as its longest one.
struct InspectDigests {
    private(set) var results: [DigestKind: Result<[UInt8], MeasurementError>] = [:]
    private(set) var snpUpdates: [SNPLaunchUpdate]?
    private(set) var sevESVMSAs: [[UInt8]]?
    /// The digest of the image's pages (--mode snp:ovmf-hash), when it was computed.
    private(set) var imageDigest: Result<[UInt8], MeasurementError>?

    /// `mode` nil: every digest, for the report.
    init(firmware: FirmwareImage, snpOptions: SNPOptions, order: MRTDOrder, mode: InspectMode?) {
        let wanted: Set<DigestKind> = mode.map { mode in mode.digest.map { [$0] } ?? [] } ?? [.snp, .sev, .sevES, .mrtd]
        var jobs: [@Sendable () -> Part] = []
        if mode == .snpOVMFHash || wanted.contains(.snp) {
            jobs.append { Self.snp(firmware, options: snpOptions, digest: wanted.contains(.snp), pagesAlone: mode == .snpOVMFHash) }
        }
        if wanted.contains(.mrtd) {
            jobs.append { Part(results: [.mrtd: Result { () throws(MeasurementError) in try TDXMeasurement.mrtd(of: firmware, order: order) }]) }
        }
        if wanted.contains(.sev) || wanted.contains(.sevES) {
            jobs.append { Self.sev(firmware, options: snpOptions, wanted: wanted) }
        }
        for part in Self.runSideBySide(jobs) {
            results.merge(part.results) { first, _ in first }
            snpUpdates = snpUpdates ?? part.snpUpdates
            sevESVMSAs = sevESVMSAs ?? part.sevESVMSAs
            imageDigest = imageDigest ?? part.imageDigest
        }
    }

    /// What one job computed.
    private struct Part: Sendable {
        var results: [DigestKind: Result<[UInt8], MeasurementError>] = [:]
        var snpUpdates: [SNPLaunchUpdate]?
        var sevESVMSAs: [[UInt8]]?
        var imageDigest: Result<[UInt8], MeasurementError>?
    }

    /// Runs `jobs` on as many threads as there are jobs and returns their parts in job order.
    private static func runSideBySide(_ jobs: [@Sendable () -> Part]) -> [Part] {
        let parts = PartSlots<Part>(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in parts.store(jobs[index](), at: index) }
        return parts.all
    }

    /// The launch updates, then (when the launch is buildable or snp:ovmf-hash is asked for) the
    /// digest of the image's pages, which the launch digest starts from.
    private static func snp(_ firmware: FirmwareImage, options: SNPOptions, digest: Bool, pagesAlone: Bool) -> Part {
        var part = Part()
        let updates = Result { () throws(MeasurementError) in try SNPMeasurement.launchUpdates(of: firmware, options: options) }
        part.snpUpdates = try? updates.get()
        if pagesAlone || (part.snpUpdates != nil && options.imageDigest == nil) {
            part.imageDigest = Result { () throws(MeasurementError) in try SNPMeasurement.imageDigest(of: firmware) }
        }
        guard digest else { return part }
        let pages = try? part.imageDigest?.get()
        part.results[.snp] = updates.flatMap { updates in
            Result { () throws(MeasurementError) in
                try SNPMeasurement.digest(of: updates, image: firmware, options: options, imagePagesDigest: pages)
            }
        }
        return part
    }

    /// One SHA-256 of the image for both; SEV-ES reports its VMSAs' problem first, as
    /// `SEVMeasurement.sevESDigest` alone would.
    private static func sev(_ firmware: FirmwareImage, options: SNPOptions, wanted: Set<DigestKind>) -> Part {
        var part = Part()
        let imageHash = Result { () throws(FirmwareError) in try SEVMeasurement.imageHash(of: firmware) }
        if wanted.contains(.sev) {
            part.results[.sev] = imageHash.mapError { .brokenStructure(.sev, $0) }.flatMap { hash in
                Result { () throws(MeasurementError) in
                    try SEVMeasurement.sevDigest(of: firmware, kernelHashes: options.kernelHashes, imageHash: hash)
                }
            }
        }
        guard wanted.contains(.sevES) else { return part }
        let vmsas = Result { () throws(MeasurementError) in
            try SEVMeasurement.sevESVMSAs(of: firmware, vcpus: options.vcpus, vcpuSignature: options.vcpuSignature, vmm: options.vmm)
        }
        part.sevESVMSAs = try? vmsas.get()
        part.results[.sevES] = vmsas.flatMap { _ in imageHash.mapError { .brokenStructure(.sevES, $0) } }.flatMap { hash in
            Result { () throws(MeasurementError) in
                try SEVMeasurement.sevESDigest(
                    of: firmware, vcpus: options.vcpus, vcpuSignature: options.vcpuSignature,
                    kernelHashes: options.kernelHashes, vmm: options.vmm, imageHash: hash)
            }
        }
        return part
    }

    /// The digest's result; nil when it was not asked for.
    func result(_ kind: DigestKind) -> Result<[UInt8], MeasurementError>? { results[kind] }

    /// The VMSA pages of the launch `mode` measures (SNP unless SEV-ES is asked for).
    func vmsas(for mode: InspectMode?) -> [[UInt8]]? {
        if mode == .seves { return sevESVMSAs }
        return snpUpdates?.compactMap { update in
            guard update.type == .vmsa, case .bytes(let page) = update.contents else { return nil }
            return page
        }
    }
}

/// One slot per job, each written once by its own job under a lock and read after every job
/// has returned.
private final class PartSlots<Part: Sendable>: @unchecked Sendable {
    private var slots: [Part?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ part: Part, at index: Int) {
        lock.withLock { slots[index] = part }
    }

    var all: [Part] { lock.withLock { slots.compactMap { $0 } } }
}
