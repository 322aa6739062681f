import GuestPhysical

/// A linked guest image as the host sees it: where its bytes go, where it starts, what the
/// host must populate first, and where it issues conversion requests.
public struct Image: Sendable {
    /// Request sites of one interface an image may label. The trap transport arms a run's
    /// platform's sites as hardware breakpoints, and x86 has four breakpoint address
    /// registers, DR0–DR3 (AMD APM Vol. 2 §13.1.1; Linux arch/x86/kvm/x86.c `__kvm_set_dr`
    /// keeps `db[0..3]`). A firmware image may carry several interfaces' sites, as a run arms
    /// only one interface's: the limit is per interface, as the runner applies it.
    public static let maximumSitesPerInterface = 4
    public static let siteSymbolPrefix = "__enlighten_site_"
    public static let pageTableRootSymbol = "__enlighten_pml4"

    public let name: String
    public let layout: Layout
    public let entry: UInt64
    public let pageTableRoot: UInt64
    public let segments: [LoadSegment]
    public let plan: PopulationPlan
    public let sites: [RequestSite]
    public let symbols: SymbolTable
    /// The linked ELF, byte for byte.
    public let elf: [UInt8]
    /// A firmware volume run as it is (`init(firmwareVolume:bytes:)`), which expects a PC's
    /// devices around it, not one of our images.
    public internal(set) var isFirmwareVolume = false

    /// Reads a linked image back: segments, entry, plan and sites, all validated.
    public init(name: String, elf bytes: [UInt8]) throws(ImageError) {
        let file: ELFFile
        do { file = try ELFFile(bytes: bytes) } catch { throw .elf(error) }
        guard file.type == .executable else { throw .notLinked }
        self.name = name
        self.elf = bytes
        self.entry = file.entry
        self.layout = file.entry == Layout.resetVector ? .firmware : .direct64

        var segments: [LoadSegment] = []
        for segment in file.segments where segment.isLoadable && segment.memorySize > 0 {
            let data = (try? file.reader.slice(segment.offset, segment.fileSize, "segment")) ?? []
            segments.append(LoadSegment(address: segment.physicalAddress, bytes: Array(data), memorySize: segment.memorySize))
        }
        self.segments = segments.sorted { $0.address < $1.address }

        let symbols = SymbolTable(file.symbols)
        self.symbols = symbols
        guard let root = symbols.address(of: Self.pageTableRootSymbol) else { throw .missingSymbol(Self.pageTableRootSymbol) }
        self.pageTableRoot = root

        guard let planSection = file.section(named: ".enlighten.plan") else { throw .plan(.missing) }
        let plan: PopulationPlan
        do {
            plan = try PopulationPlan.decode(try file.contents(of: planSection))
            try plan.validate(layout: layout, loadable: segments.map { GPARange(start: $0.address, end: $0.address + UInt64($0.bytes.count)) })
        } catch let error as PlanError {
            throw .plan(error)
        } catch let error as ELFError {
            throw .elf(error)
        } catch {
            throw .plan(.malformedSection("\(error)"))
        }
        self.plan = plan

        let sites = file.symbols
            .filter { $0.isGlobal && $0.isDefined && $0.name.hasPrefix(Self.siteSymbolPrefix) }
            .map { RequestSite(name: $0.name, address: $0.value) }
            .sorted { $0.address < $1.address }
        try Self.checkSites(sites, segments: self.segments)
        self.sites = sites
    }

    /// The rules a run applies to request sites, applied when the image is read so `build`
    /// refuses what `run` would: each site holds a request instruction, and no interface has
    /// more sites than one run can arm.
    private static func checkSites(_ sites: [RequestSite], segments: [LoadSegment]) throws(ImageError) {
        var byInterface: [RequestInterface: [String]] = [:]
        for site in sites {
            let bytes = contents(of: GPARange(start: site.address, end: site.address &+ UInt64(RequestInstruction.longest)), in: segments)
            guard let instruction = bytes.withUnsafeBytes({ RequestInstruction(bytes: $0) }) else {
                throw .siteHoldsNoRequest(name: site.name, address: site.address, bytes: bytes)
            }
            byInterface[instruction.interface, default: []].append(site.name)
        }
        for interface in RequestInterface.allCases {
            if let names = byInterface[interface], names.count > maximumSitesPerInterface {
                throw .tooManySites(interface, names)
            }
        }
    }

    /// An image made in memory rather than linked: for benchmarks and tests that need a plan
    /// no stub carries (say, a 64 MiB measured payload). It has no ELF bytes, symbols or
    /// request sites; its plan is validated exactly as a linked image's is.
    public init(
        synthetic name: String, layout: Layout, entry: UInt64, pageTableRoot: UInt64,
        segments: [LoadSegment], plan: PopulationPlan
    ) throws(ImageError) {
        do {
            try plan.validate(layout: layout, loadable: segments.map { GPARange(start: $0.address, end: $0.address + UInt64($0.bytes.count)) })
        } catch {
            throw .plan(error)
        }
        self.name = name
        self.layout = layout
        self.entry = entry
        self.pageTableRoot = pageTableRoot
        self.segments = segments.sorted { $0.address < $1.address }
        self.plan = plan
        self.sites = []
        self.symbols = SymbolTable([])
        self.elf = []
    }

    /// The bytes the image puts at `range` (zero where no segment has file bytes).
    public func contents(of range: GPARange) -> [UInt8] { Self.contents(of: range, in: segments) }

    private static func contents(of range: GPARange, in segments: [LoadSegment]) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(range.size))
        for segment in segments {
            let segmentRange = GPARange(start: segment.address, end: segment.address + UInt64(segment.bytes.count))
            guard segmentRange.overlaps(range) else { continue }
            let from = max(segmentRange.start, range.start)
            let to = min(segmentRange.end, range.end)
            let source = Int(from - segment.address)
            let destination = Int(from - range.start)
            buffer.replaceSubrange(destination..<destination + Int(to - from), with: segment.bytes[source..<source + Int(to - from)])
        }
        return buffer
    }

    /// The flat ROM of a firmware-layout image (`NAME.bin`), as QEMU's `-bios` takes it.
    public func romBytes() -> [UInt8]? {
        guard layout == .firmware else { return nil }
        return contents(of: Layout.romWindow)
    }

    /// `symbol+0xoff` for an address, for diagnoses.
    public func symbolize(_ address: UInt64) -> String { symbols.describe(address) }
}

public struct LoadSegment: Sendable, Equatable {
    public let address: UInt64
    public let bytes: [UInt8]
    public let memorySize: UInt64

    /// A segment of `bytes` at `address`, `memorySize` long (its file bytes, by default).
    public init(address: UInt64, bytes: [UInt8], memorySize: UInt64? = nil) {
        self.address = address
        self.bytes = bytes
        self.memorySize = memorySize ?? UInt64(bytes.count)
    }
}

/// An instruction that issues a conversion request (stub contract: `__enlighten_site_*`).
public struct RequestSite: Sendable, Equatable, Codable {
    public let name: String
    public let address: UInt64
}

/// Address → name lookups over an image's symbols.
public struct SymbolTable: Sendable {
    private let sorted: [(name: String, address: UInt64)]

    init(_ symbols: [ELFSymbol]) {
        // Section and file symbols (types 3, 4) would shadow real labels.
        sorted =
            symbols
            .filter { $0.isDefined && !$0.name.isEmpty && $0.type != 3 && $0.type != 4 && $0.sectionIndex < 0xFF00 }
            .map { ($0.name, $0.value) }
            .sorted { $0.address < $1.address }
    }

    public func address(of name: String) -> UInt64? { sorted.first { $0.name == name }?.address }

    public func describe(_ address: UInt64) -> String {
        guard let index = sorted.lastIndex(where: { $0.address <= address }) else { return hex(address) }
        let symbol = sorted[index]
        let offset = address - symbol.address
        return offset == 0 ? "\(symbol.name) (\(hex(address)))" : "\(symbol.name)+\(hex(offset)) (\(hex(address)))"
    }
}

public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    case elf(ELFError)
    case notLinked
    case missingSymbol(String)
    case plan(PlanError)
    case tooManySites(RequestInterface, [String])
    case siteHoldsNoRequest(name: String, address: UInt64, bytes: [UInt8])

    public var description: String {
        switch self {
        case .elf(let error): error.description
        case .notLinked: "not a linked image (ELF type is not EXEC)"
        case .missingSymbol(let name): "the image defines no `\(name)` (was it linked with Enlighten's runtime?)"
        case .plan(let error): error.description
        case .tooManySites(let interface, let names):
            "the image has \(names.count) \(interface.rawValue) request sites (\(names.joined(separator: ", "))); a run traps at most \(Image.maximumSitesPerInterface) per interface, one per x86 debug address register (DR0-DR3)"
        case .siteHoldsNoRequest(let name, let address, let bytes):
            "request site \(name) at \(hex(address)) holds \(bytes.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")), not vmcall, vmmcall, VMGEXIT, TDCALL or PVALIDATE"
        }
    }
}
