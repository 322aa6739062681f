import GuestPhysical
import Measurement
import Payload

/// The `--json` document (keys: footer, sevMetadata, tdxMetadata, population, digests, …) and the
/// text rendering of the same data. Absent metadata is null, present-but-empty metadata is [];
/// a digest that cannot be computed is null, with its reason in `digestErrors`.
struct InspectReport: Encodable {
    // Addresses and file offsets are "0x…" strings, sizes numbers (docs/json.md).
    struct FooterItem: Encodable { let guid: String, name: String, dataOffset: String, dataSize: Int }
    struct SEVItem: Encodable { let gpa: String, size: UInt32, type: String }
    struct TDXItem: Encodable {
        let dataOffset: String, rawSize: UInt32, memoryAddress: String, memorySize: UInt64
        let type: String, attributes: String
    }
    struct Area: Encodable { let gpa: String, size: UInt32 }
    /// One digest: its value in the requested format, or null and why.
    struct Digest: Encodable {
        let value: String?
        let error: String?
        /// Whether the reason is a broken table or option, not simply a structure this image lacks.
        let failed: Bool

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(value, forKey: .value)
            try container.encode(error, forKey: .error)
        }
        enum CodingKeys: String, CodingKey { case value, error }
    }

    let image: String
    let size: Int
    let base: String
    let footer: [FooterItem]?
    let sevMetadata: [SEVItem]?
    let tdxMetadata: [TDXItem]?
    let sevESResetEIP: String?
    let sevHashTable: Area?
    let sevSecret: Area?
    let population: [FirmwarePopulationStep]
    let vcpus: Int
    let vcpuSignature: String
    let guestFeatures: String
    let vmmType: String
    let kernelHashes: Bool
    let mrtdOrder: MRTDOrder
    let outputFormat: String
    /// SEV-SNP, SEV, SEV-ES, TDX MRTD → value or reason.
    let digests: [String: Digest]
    /// Broken structures, one precise sentence each.
    let problems: [String]
    /// Structures the footer table does not reference (absent, as opposed to empty).
    let absent: [String]
    /// The numeric forms the text rendering computes with.
    let baseAddress: UInt64
    let resetEIP: UInt32?

    init(
        path: String, firmware: FirmwareImage, options: SNPOptions, order: MRTDOrder,
        digests computed: InspectDigests, format: DigestFormat
    ) {
        image = path
        size = firmware.size
        base = hex(firmware.base)
        footer = firmware.footer?.entries.map {
            FooterItem(guid: $0.guid.description, name: $0.name, dataOffset: hex($0.dataOffset), dataSize: $0.data.count)
        }
        sevMetadata = firmware.sevMetadata?.sections.map { SEVItem(gpa: hex($0.gpa), size: $0.size, type: $0.type.description) }
        tdxMetadata = firmware.tdxMetadata?.sections.map {
            TDXItem(
                dataOffset: hex($0.dataOffset), rawSize: $0.rawSize, memoryAddress: hex($0.memoryAddress),
                memorySize: $0.memorySize, type: $0.type.description, attributes: $0.attributes.description)
        }
        sevESResetEIP = firmware.sevESResetBlock.map { hex($0.rawValue) }
        sevHashTable = firmware.sevHashTableArea.map { Area(gpa: hex($0.gpa), size: $0.size) }
        sevSecret = firmware.sevSecretArea.map { Area(gpa: hex($0.gpa), size: $0.size) }
        baseAddress = firmware.base
        resetEIP = firmware.sevESResetBlock?.rawValue
        // The SNP list is the launch the digest folds over (VMSAs included); where that launch
        // cannot be built, the steps the tables alone direct.
        let snpSteps = computed.snpUpdates?.map(\.populationStep) ?? FirmwarePopulation.snp(firmware)
        population = snpSteps + FirmwarePopulation.tdx(firmware)
        vcpus = options.vcpus
        vcpuSignature = hex(options.vcpuSignature)
        guestFeatures = hex(options.guestFeatures)
        vmmType = options.vmm.rawValue
        kernelHashes = options.kernelHashes != nil
        mrtdOrder = order
        outputFormat = format.rawValue
        problems = firmware.problems.map(\.description)
        var absent: [String] = []
        if let footer = firmware.footer {
            if footer.entry(KnownFirmwareGUID.sevMetadataOffset) == nil { absent.append("SEV metadata") }
            if footer.entry(KnownFirmwareGUID.tdxMetadataOffset) == nil { absent.append("TDX metadata") }
        }
        self.absent = absent
        var digests: [String: Digest] = [:]
        for kind in [DigestKind.snp, .sev, .sevES, .mrtd] {
            switch computed.result(kind) {
            case nil: continue
            case .success(let value): digests[kind.rawValue] = Digest(value: format.render(value), error: nil, failed: false)
            case .failure(let error):
                let missing = if case .missingStructure = error { true } else { false }
                digests[kind.rawValue] = Digest(value: nil, error: error.description, failed: !missing)
            }
        }
        self.digests = digests
    }

    /// Exit 1 without --mode: a table is broken or a digest failed for a reason other than a
    /// structure this image simply does not have.
    var failed: Bool { !problems.isEmpty || digests.values.contains(where: \.failed) }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(image, forKey: .image)
        try container.encode(size, forKey: .size)
        try container.encode(base, forKey: .base)
        try container.encode(footer, forKey: .footer)
        try container.encode(sevMetadata, forKey: .sevMetadata)
        try container.encode(tdxMetadata, forKey: .tdxMetadata)
        try container.encode(sevESResetEIP, forKey: .sevESResetEIP)
        try container.encode(sevHashTable, forKey: .sevHashTable)
        try container.encode(sevSecret, forKey: .sevSecret)
        try container.encode(population, forKey: .population)
        try container.encode(vcpus, forKey: .vcpus)
        try container.encode(vcpuSignature, forKey: .vcpuSignature)
        try container.encode(guestFeatures, forKey: .guestFeatures)
        try container.encode(vmmType, forKey: .vmmType)
        try container.encode(kernelHashes, forKey: .kernelHashes)
        try container.encode(mrtdOrder, forKey: .mrtdOrder)
        try container.encode(outputFormat, forKey: .outputFormat)
        try container.encode(digests[DigestKind.snp.rawValue]?.value, forKey: .snpLaunchDigest)
        try container.encode(digests[DigestKind.sev.rawValue]?.value, forKey: .sevLaunchDigest)
        try container.encode(digests[DigestKind.sevES.rawValue]?.value, forKey: .sevESLaunchDigest)
        try container.encode(digests[DigestKind.mrtd.rawValue]?.value, forKey: .mrtd)
        try container.encode(digests, forKey: .digests)
        try container.encode(digests.compactMapValues(\.error), forKey: .digestErrors)
        try container.encode(problems, forKey: .problems)
    }

    enum Keys: String, CodingKey {
        case image, size, base, footer, sevMetadata, tdxMetadata, sevESResetEIP, sevHashTable, sevSecret, population
        case vcpus, vcpuSignature, guestFeatures, vmmType, kernelHashes, mrtdOrder, outputFormat
        case snpLaunchDigest, sevLaunchDigest, sevESLaunchDigest, mrtd, digests, digestErrors, problems
    }
}
