import ArgumentParser
import Foundation
import Measurement
import Payload

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a firmware image's footer tables, the population they direct and its launch digests.",
        discussion: """
            IMAGE is an x86 firmware volume whose last byte sits at 4 GiB − 1: Debian's OVMF.fd \
            or a firmware-layout NAME.bin from `enlighten build`. Prints the reset-vector GUID \
            table, the SEV and TDX metadata, what a VMM populates before the first instruction \
            (and whether the contents are measured), and the SEV, SEV-ES and SEV-SNP launch \
            digests and the TDX MRTD. A digest that cannot be computed is reported with the reason.

            Exit codes: 0 every table read, 1 a table is broken, 2 bad options or unreadable file.

            Examples:
              enlighten inspect /usr/share/ovmf/OVMF.fd --vcpus 1 --vcpu-type EPYC-v4
              enlighten inspect out/hello.firmware.bin --json --mrtd-order two-pass
            """)

    @Argument(help: "The firmware image.")
    var image: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "vCPUs, one VMSA each in the SEV-ES and SEV-SNP digests.")
    var vcpus = 1

    @Option(help: "QEMU CPU model whose signature goes into the VMSA (e.g. EPYC-v4, EPYC-Milan).")
    var vcpuType: String?

    @Option(help: "CPUID(1).EAX signature in hex, instead of --vcpu-type.")
    var vcpuSig: String?

    @Option(help: "SEV_FEATURES of the SNP VMSAs, in hex.")
    var guestFeatures = "0x1"

    @Option(help: "The order of PAGE.ADD and MR.EXTEND: interleaved or two-pass.")
    var mrtdOrder: MRTDOrder = .interleaved

    func validate() throws {
        if vcpuType != nil && vcpuSig != nil { throw ValidationError("give --vcpu-type or --vcpu-sig, not both") }
        if vcpus < 1 { throw ValidationError("--vcpus must be at least 1") }
        _ = try signature()
        _ = try features()
    }

    private func signature() throws -> UInt32 {
        if let vcpuSig {
            guard let value = UInt32(Self.stripHexPrefix(vcpuSig), radix: 16) else {
                throw ValidationError("--vcpu-sig '\(vcpuSig)' is not a 32-bit hex number")
            }
            return value
        }
        let name = vcpuType ?? "EPYC-v4"
        guard let value = VCPUSignature.named(name) else {
            let known = VCPUSignature.namedModels.keys.sorted().joined(separator: ", ")
            throw ValidationError("unknown --vcpu-type '\(name)' (known: \(known))")
        }
        return value
    }

    private func features() throws -> UInt64 {
        guard let value = UInt64(Self.stripHexPrefix(guestFeatures), radix: 16) else {
            throw ValidationError("--guest-features '\(guestFeatures)' is not a 64-bit hex number")
        }
        return value
    }

    private static func stripHexPrefix(_ text: String) -> String {
        text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
    }

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        } catch {
            throw fail("cannot read \(image): \(error.localizedDescription)", .inputError)
        }
        let firmware = FirmwareImage(bytes: bytes)
        let report = InspectReport(path: image, firmware: firmware,
                                   snpOptions: SNPOptions(vcpus: vcpus, vcpuSignature: try signature(),
                                                          guestFeatures: try features()),
                                   order: mrtdOrder)
        if json { try printJSON(report) } else { report.printText() }
        if !firmware.problems.isEmpty { throw Outcome.checkFailed.exitCode }
    }
}

extension MRTDOrder: ExpressibleByArgument {}

/// The `--json` document (keys: footer, sevMetadata, tdxMetadata, snpLaunchDigest, mrtd, …) and the text rendering of the same data.
struct InspectReport: Encodable {
    struct FooterItem: Encodable { let guid: String, name: String, dataOffset: Int, dataSize: Int }
    struct SEVItem: Encodable { let gpa: UInt32, size: UInt32, type: String }
    struct TDXItem: Encodable {
        let dataOffset: UInt32, rawSize: UInt32, memoryAddress: UInt64, memorySize: UInt64
        let type: String, attributes: String
    }
    struct Area: Encodable { let gpa: UInt32, size: UInt32 }

    let image: String
    let size: Int
    let base: UInt64
    let footer: [FooterItem]
    let sevMetadata: [SEVItem]
    let tdxMetadata: [TDXItem]
    let sevESResetEIP: UInt32?
    let sevHashTable: Area?
    let sevSecret: Area?
    let population: [FirmwarePopulationStep]
    let vcpus: Int
    let vcpuSignature: String
    let guestFeatures: String
    let mrtdOrder: MRTDOrder
    let snpLaunchDigest: String?
    let sevLaunchDigest: String?
    let sevESLaunchDigest: String?
    let mrtd: String?
    /// Broken structures, one precise sentence each.
    let problems: [String]
    /// Digest name → why it cannot be computed.
    let digestErrors: [String: String]

    init(path: String, firmware: FirmwareImage, snpOptions: SNPOptions, order: MRTDOrder) {
        image = path
        size = firmware.bytes.count
        base = firmware.base
        footer = (firmware.footer?.entries ?? []).map {
            FooterItem(guid: $0.guid.description, name: $0.name, dataOffset: $0.dataOffset, dataSize: $0.data.count)
        }
        sevMetadata = (firmware.sevMetadata?.sections ?? []).map {
            SEVItem(gpa: $0.gpa, size: $0.size, type: $0.type.description)
        }
        tdxMetadata = (firmware.tdxMetadata?.sections ?? []).map {
            TDXItem(dataOffset: $0.dataOffset, rawSize: $0.rawSize, memoryAddress: $0.memoryAddress,
                    memorySize: $0.memorySize, type: $0.type.description, attributes: $0.attributes.description)
        }
        sevESResetEIP = firmware.sevESResetBlock?.rawValue
        sevHashTable = firmware.sevHashTableArea.map { Area(gpa: $0.gpa, size: $0.size) }
        sevSecret = firmware.sevSecretArea.map { Area(gpa: $0.gpa, size: $0.size) }
        population = FirmwarePopulation.snp(firmware) + FirmwarePopulation.tdx(firmware)
        vcpus = snpOptions.vcpus
        vcpuSignature = hex(snpOptions.vcpuSignature)
        guestFeatures = hex(snpOptions.guestFeatures)
        mrtdOrder = order
        problems = firmware.problems.map(\.description)

        var errors: [String: String] = [:]
        func attempt(_ body: () throws(MeasurementError) -> [UInt8]) -> String? {
            do { return try body().map { String(format: "%02x", $0) }.joined() } catch {
                errors[error.digest.rawValue] = error.description
                return nil
            }
        }
        snpLaunchDigest = attempt { () throws(MeasurementError) in try SNPMeasurement.launchDigest(of: firmware, options: snpOptions) }
        sevLaunchDigest = attempt { () throws(MeasurementError) in try SEVMeasurement.sevDigest(of: firmware) }
        sevESLaunchDigest = attempt { () throws(MeasurementError) in
            try SEVMeasurement.sevESDigest(of: firmware, vcpus: snpOptions.vcpus, vcpuSignature: snpOptions.vcpuSignature)
        }
        mrtd = attempt { () throws(MeasurementError) in try TDXMeasurement.mrtd(of: firmware, order: order) }
        digestErrors = errors
    }

    func printText() {
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        print("\(image): \(size) bytes at \(hex(base))..\(hex(base + UInt64(size) - 1))")
        print("footer table (\(footer.count) entries):")
        for entry in footer { print("  \(entry.guid)  \(pad(entry.name, 18)) \(entry.dataSize) data bytes at \(hex(entry.dataOffset))") }
        if let sevESResetEIP { print("  SEV-ES AP reset: CS base \(hex(sevESResetEIP & 0xFFFF_0000)), IP \(hex(sevESResetEIP & 0xFFFF))") }
        if let sevHashTable { print("  SEV hash table area: \(hex(sevHashTable.gpa)), \(hex(sevHashTable.size)) bytes") }
        if let sevSecret { print("  SEV secret area: \(hex(sevSecret.gpa)), \(hex(sevSecret.size)) bytes") }
        print("SEV metadata (\(sevMetadata.count) sections):")
        for item in sevMetadata { print("  \(pad(hex(item.gpa), 12)) \(pad(hex(item.size), 10)) \(item.type)") }
        print("TDX metadata (\(tdxMetadata.count) sections):")
        for item in tdxMetadata {
            print("  \(pad(item.type, 13)) memory \(pad(hex(item.memoryAddress), 12)) \(pad(hex(item.memorySize), 10)) data \(pad(hex(item.dataOffset), 10)) \(pad(hex(item.rawSize), 10)) \(item.attributes)")
        }
        print("population before the first instruction:")
        for step in population {
            print("  \(pad(step.platform.rawValue, 8)) \(pad(hex(step.gpa), 12)) \(pad(hex(step.size), 10)) \(step.contentsMeasured ? "measured  " : "unmeasured") \(step.how) [\(step.source)]")
        }
        print("digests (\(vcpus) vCPU, signature \(vcpuSignature), SNP features \(guestFeatures), MRTD \(mrtdOrder.rawValue)):")
        for (name, value) in [("SEV-SNP", snpLaunchDigest), ("SEV", sevLaunchDigest), ("SEV-ES", sevESLaunchDigest), ("TDX MRTD", mrtd)] {
            print("  \(pad(name, 9)) \(value ?? "not computed: " + (digestErrors[name] ?? "unknown reason"))")
        }
        for problem in problems { print("problem: \(problem)") }
    }
}
