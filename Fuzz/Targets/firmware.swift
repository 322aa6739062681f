import Measurement
import Payload

#if canImport(Glibc)
import Glibc
#endif

/// The firmware-table parsers and everything `enlighten inspect` derives from them (the
/// population a VMM performs, the SEV-ES and SEV-SNP digests, the TDX MRTD) on images the
/// input grows. The first two bytes are a header: bits 0-4 give how many 4 KiB pages of zeros
/// go in front of the rest, so the tables at the end sit in images from a few bytes to 128 KiB
/// and more; when bits 5-9 are all set (one input in 32), the first SEV and the first TDX
/// section are grown to 4 KiB << n bytes (up to 4 GiB), n drawn from a hash of the whole
/// input, so every mutation of such an input measures a new size, up to the largest the code
/// accepts, without the fuzzer having to find the size fields. n = 2t + b (at most 20), t the
/// trailing zeros of the hash and b its top bit, so size class n comes about 2^(-n/2) of the
/// time: the hashing time is spread evenly over the classes and a grown input costs about
/// 1,000 pages on average, while 1 in 1,024 reaches 4 GiB. Every digest is computed, whatever size the tables ask for: what the
/// code accepts is what inspect would hash. Oracles: the image ends at 4 GiB (base + size); a footer table is reported only
/// if the footer GUID (96b582de-1fb2-45f7-baea-a366c55a082d, OVMF ResetVector) sits at
/// 4 GiB - 0x30 with a length that fits; a population step past 2^64 (TDX) or 4 GiB (SNP)
/// only with the problem that says so; every refusal is described; and the work bound of
/// docs/measurement.md: an accepted SNP launch adds at most 2^20 pages below 4 GiB, none twice,
/// plus at most 4096 VMSAs; an accepted MRTD adds at most 2^20 pages, none twice, and extends
/// at most the image's size; and one input's digests finish within `secondsBound` (scripts/
/// fuzz.sh runs this target with a libFuzzer -timeout and -rss_limit_mb as well).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFirmware(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let header = input.u16()
    let pages = Int(header & 31)
    let tail = input.rest()
    var bytes = [UInt8](repeating: 0, count: pages * 4096) + tail
    if (header >> 5) & 31 == 31 {
        let hash = fnv1a(tail)
        let exponent = min(20, 2 * hash.trailingZeroBitCount + Int(hash >> 31))
        grow(&bytes, to: UInt64(4096) << exponent)
    }
    let started = monotonicSeconds()
    let image = FirmwareImage(bytes: bytes)
    expect(image.base + UInt64(bytes.count) == FirmwareImage.fourGiB, "the image does not end at 4 GiB")
    for problem in image.problems { expect(!problem.description.isEmpty, "a firmware problem without words") }
    if image.footer != nil {
        // The footer: GUID at 4 GiB - 0x30 (bytes count - 0x30), its 16-bit length just before.
        let footerGUID: [UInt8] = [0xDE, 0x82, 0xB5, 0x96, 0xB2, 0x1F, 0xF7, 0x45, 0xBA, 0xEA, 0xA3, 0x66, 0xC5, 0x5A, 0x08, 0x2D]
        expect(bytes.count >= 0x30 && Array(bytes[(bytes.count - 0x30)..<(bytes.count - 0x20)]) == footerGUID, "a footer table without the footer GUID")
        let length = Int(bytes[bytes.count - 0x32]) | Int(bytes[bytes.count - 0x31]) << 8
        expect(length <= bytes.count - 0x20, "a footer table longer than the image")
    }
    // The population lists every section the tables name, as inspect prints it; one a VMM
    // could not carry out must come with the problem that says so. TDVF sections carry
    // 64-bit GPAs anywhere in the TD's space (TD_HOB and TempMem live in RAM), so a TDX step
    // is wrong only when it wraps past 2^64; SEV metadata sections are 32-bit GPA/size pairs
    // (OVMF ResetVector SEV_METADATA), so an SNP step is wrong past 4 GiB.
    let outsideFlagged = image.problems.contains { if case .tdxSectionOutsideAddressSpace = $0 { true } else { false } }
    for step in FirmwarePopulation.snp(image) + FirmwarePopulation.tdx(image) {
        let (end, overflow) = step.gpa.addingReportingOverflow(step.size)
        if step.platform == .tdx, overflow {
            expect(outsideFlagged, "a TDX population step past 2^64 with no problem reported: \(step)")
        }
        if step.platform == .snp, overflow || end > FirmwareImage.fourGiB {
            expect(!image.problems.isEmpty, "an SNP population step past 4 GiB with no problem reported: \(step)")
        }
    }

    let options = SNPOptions(vcpus: 1, vcpuSignature: 0x00A0_0F11)
    do {
        let updates = try SNPMeasurement.launchUpdates(of: image, options: options)
        checkSNPWork(updates)
        _ = try SNPMeasurement.digest(of: updates, image: image, options: options)
    } catch {
        expect(!error.description.isEmpty, "an SNP digest refusal without words")
    }
    do { _ = try SEVMeasurement.sevESDigest(of: image, vcpus: 1, vcpuSignature: 0x00A0_0F11) } catch {
        expect(!error.description.isEmpty, "an SEV-ES digest refusal without words")
    }
    do {
        _ = try TDXMeasurement.mrtd(of: image, order: .interleaved)
        checkMRTDWork(image.tdxMetadata?.sections ?? [], imageSize: bytes.count)
    } catch {
        expect(!error.description.isEmpty, "an MRTD refusal without words")
    }
    let elapsed = monotonicSeconds() - started
    expect(elapsed < secondsBound, "one input's digests took \(elapsed) s, past the \(secondsBound) s bound")
    return 0
}

/// docs/measurement.md: the largest tables a file of up to 2 MiB may carry take 3.5 s in a
/// release build on a 2-core machine; the bound leaves room for the fuzzer's coverage
/// instrumentation and a loaded machine, and still catches work that grows without bound
/// (the hostile tables of issue 20 took minutes to hours).
let secondsBound = 30.0

/// FNV-1a, 32-bit: every byte of the input moves it.
func fnv1a(_ bytes: [UInt8]) -> UInt32 {
    bytes.reduce(UInt32(0x811C_9DC5)) { ($0 ^ UInt32($1)) &* 0x0100_0193 }
}

/// Rewrites the size of the first SEV section (32-bit: at most 4 GiB − 4 KiB) and the memory
/// size of the first TDX section to `size`, where the tables can be read.
func grow(_ bytes: inout [UInt8], to size: UInt64) {
    let image = FirmwareImage(bytes: bytes)
    if let sev = image.sevMetadata, !sev.sections.isEmpty {
        bytes.writeLE(UInt32(min(size, 0xFFFF_F000)), at: sev.offset + 16 + 4)
    }
    if let tdx = image.tdxMetadata, !tdx.sections.isEmpty {
        bytes.writeLE(size, at: tdx.offset + 16 + 16)
    }
}

/// An accepted SNP launch adds each page once, below 4 GiB (the image and the sections), plus
/// one VMSA per vCPU at the VMSA GPA.
func checkSNPWork(_ updates: [SNPLaunchUpdate]) {
    var ranges: [(start: UInt64, end: UInt64)] = []
    var vmsas = 0
    for update in updates {
        if update.type == .vmsa { vmsas += 1; continue }
        let (end, overflow) = update.gpa.addingReportingOverflow(update.size)
        expect(!overflow && end <= FirmwareImage.fourGiB, "an accepted SNP update past 4 GiB: \(update.source)")
        ranges.append((update.gpa, end))
    }
    expect(vmsas <= 4096, "\(vmsas) VMSAs")
    let sorted = ranges.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
    for (earlier, later) in zip(sorted, sorted.dropFirst()) {
        expect(later.start >= earlier.end, "an accepted SNP launch adds a page twice: \(earlier) and \(later)")
    }
    let pages = sorted.reduce(UInt64(0)) { $0 + ($1.end - $1.start) / 4096 }
    expect(pages <= 1 << 20, "an accepted SNP launch adds \(pages) pages, more than the 2^20 below 4 GiB")
}

/// An accepted MRTD adds at most 2^20 pages, each once, and extends at most the image's size.
func checkMRTDWork(_ sections: [TDXSection], imageSize: Int) {
    let added = sections.filter { !$0.attributes.contains(.pageAug) }
    let total = added.reduce(UInt128(0)) { $0 + UInt128($1.memorySize) }
    expect(total <= 1 << 32, "an accepted MRTD adds \(total) bytes, more than 4 GiB")
    let extended = added.filter { $0.attributes.contains(.mrExtend) }.reduce(UInt128(0)) { $0 + UInt128($1.memorySize) }
    expect(extended <= UInt128(imageSize), "an accepted MRTD extends \(extended) bytes of a \(imageSize)-byte image")
    let sorted = added.map { (start: UInt128($0.memoryAddress), end: UInt128($0.memoryAddress) + UInt128($0.memorySize)) }
        .filter { $0.end > $0.start }.sorted { $0.start < $1.start }
    for (earlier, later) in zip(sorted, sorted.dropFirst()) {
        expect(later.start >= earlier.end, "an accepted MRTD adds a page twice: \(earlier) and \(later)")
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
