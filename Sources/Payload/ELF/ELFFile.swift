/// A parsed ELF64 little-endian x86-64 file: the parts Enlighten needs (header, loadable
/// segments, sections, symbols), read with our own reader so no external readelf is needed.
///
/// Parsing is strict: every offset and size is checked against the file before use, and any
/// inconsistency is an `ELFError` naming the field, never a trap.
public struct ELFFile: Sendable {
    public enum FileType: UInt16, Sendable { case relocatable = 1, executable = 2, shared = 3 }

    public let type: FileType
    public let entry: UInt64
    public let segments: [ELFSegment]
    public let sections: [ELFSection]
    public let symbols: [ELFSymbol]
    public let reader: ByteReader

    public init(bytes: [UInt8]) throws(ELFError) {
        let reader = ByteReader(bytes)
        self.reader = reader
        do {
            guard bytes.count >= ELFLayout.headerSize else { throw ELFError.truncated(bytes.count) }
            guard bytes[0..<4].elementsEqual(ELFLayout.magic) else { throw ELFError.badMagic }
            guard bytes[4] == ELFLayout.class64 else { throw ELFError.unsupported("ELF class \(bytes[4]), expected 64-bit") }
            guard bytes[5] == ELFLayout.littleEndian else { throw ELFError.unsupported("data encoding \(bytes[5]), expected little-endian") }
            let rawType = try reader.u16(16, "e_type")
            guard let type = FileType(rawValue: rawType) else { throw ELFError.unsupported("ELF type \(rawType)") }
            let machine = try reader.u16(18, "e_machine")
            guard machine == ELFLayout.machineX86_64 else { throw ELFError.unsupported("machine \(machine), expected x86-64 (62)") }
            self.type = type
            self.entry = try reader.u64(24, "e_entry")
            self.segments = try Self.readSegments(reader)
            let sections = try Self.readSections(reader)
            self.sections = sections
            self.symbols = try Self.readSymbols(reader, sections: sections)
        } catch let error as ByteReaderError {
            throw ELFError.outOfBounds(error.description)
        } catch let error as ELFError {
            throw error
        } catch {
            throw ELFError.unsupported("\(error)")
        }
    }

    public func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// The file bytes of a section (empty for NOBITS sections).
    public func contents(of section: ELFSection) throws(ELFError) -> ArraySlice<UInt8> {
        if section.isNoBits { return [] }
        do {
            return try reader.slice(section.offset, section.size, "section \(section.name)")
        } catch {
            throw ELFError.outOfBounds(error.description)
        }
    }

    private static func readSegments(_ reader: ByteReader) throws -> [ELFSegment] {
        let offset = try reader.u64(32, "e_phoff")
        let entrySize = try reader.u16(54, "e_phentsize")
        let count = try reader.u16(56, "e_phnum")
        guard count > 0 else { return [] }
        guard entrySize == ELFLayout.programHeaderSize else {
            throw ELFError.inconsistent("e_phentsize is \(entrySize), expected \(ELFLayout.programHeaderSize)")
        }
        guard reader.contains(offset: offset, length: UInt64(count) * UInt64(entrySize)) else {
            throw ELFError.inconsistent("the program header table (\(count) entries at 0x\(String(offset, radix: 16))) runs past the end of the file")
        }
        var segments: [ELFSegment] = []
        for index in 0..<Int(count) {
            let base = Int(offset) + index * Int(entrySize)
            let segment = ELFSegment(
                type: try reader.u32(base, "p_type"),
                flags: try reader.u32(base + 4, "p_flags"),
                offset: try reader.u64(base + 8, "p_offset"),
                virtualAddress: try reader.u64(base + 16, "p_vaddr"),
                physicalAddress: try reader.u64(base + 24, "p_paddr"),
                fileSize: try reader.u64(base + 32, "p_filesz"),
                memorySize: try reader.u64(base + 40, "p_memsz"))
            if segment.isLoadable {
                guard reader.contains(offset: segment.offset, length: segment.fileSize) else {
                    throw ELFError.inconsistent(
                        "segment \(index) file range [0x\(String(segment.offset, radix: 16)), +0x\(String(segment.fileSize, radix: 16))) runs past the end of the file"
                    )
                }
                guard segment.fileSize <= segment.memorySize else {
                    throw ELFError.inconsistent(
                        "segment \(index) has p_filesz 0x\(String(segment.fileSize, radix: 16)) larger than p_memsz 0x\(String(segment.memorySize, radix: 16))")
                }
                guard !segment.physicalAddress.addingReportingOverflow(segment.memorySize).overflow else {
                    throw ELFError.inconsistent("segment \(index) wraps around the address space")
                }
            }
            segments.append(segment)
        }
        return segments
    }

    private static func readSections(_ reader: ByteReader) throws -> [ELFSection] {
        let offset = try reader.u64(40, "e_shoff")
        let entrySize = try reader.u16(58, "e_shentsize")
        let count = try reader.u16(60, "e_shnum")
        let nameIndex = try reader.u16(62, "e_shstrndx")
        guard count > 0 else { return [] }
        guard entrySize == ELFLayout.sectionHeaderSize else {
            throw ELFError.inconsistent("e_shentsize is \(entrySize), expected \(ELFLayout.sectionHeaderSize)")
        }
        guard reader.contains(offset: offset, length: UInt64(count) * UInt64(entrySize)) else {
            throw ELFError.inconsistent("the section header table (\(count) entries at 0x\(String(offset, radix: 16))) runs past the end of the file")
        }
        guard nameIndex < count else {
            throw ELFError.inconsistent("e_shstrndx \(nameIndex) is not a section (there are \(count))")
        }
        var raw: [(name: UInt32, header: ELFSection)] = []
        for index in 0..<Int(count) {
            let base = Int(offset) + index * Int(entrySize)
            let section = ELFSection(
                index: index, name: "",
                type: try reader.u32(base + 4, "sh_type"),
                flags: try reader.u64(base + 8, "sh_flags"),
                address: try reader.u64(base + 16, "sh_addr"),
                offset: try reader.u64(base + 24, "sh_offset"),
                size: try reader.u64(base + 32, "sh_size"),
                link: try reader.u32(base + 40, "sh_link"),
                entrySize: try reader.u64(base + 56, "sh_entsize"))
            if !section.isNoBits && section.type != 0 {
                guard reader.contains(offset: section.offset, length: section.size) else {
                    throw ELFError.inconsistent(
                        "section \(index) data [0x\(String(section.offset, radix: 16)), +0x\(String(section.size, radix: 16))) runs past the end of the file")
                }
            }
            raw.append((try reader.u32(base, "sh_name"), section))
        }
        let names = raw[Int(nameIndex)].header
        guard names.type == ELFLayout.sectionTypeStringTable else {
            throw ELFError.inconsistent("e_shstrndx \(nameIndex) does not name a string table")
        }
        var sections: [ELFSection] = []
        for (nameOffset, header) in raw {
            var named = header
            if header.type != 0 {
                named.name = try reader.cString(names.offset + UInt64(nameOffset), limit: names.offset + names.size, "section name")
            }
            sections.append(named)
        }
        try checkOverlaps(sections)
        return sections
    }

    /// Two sections whose file bytes overlap cannot both be what they claim to be.
    private static func checkOverlaps(_ sections: [ELFSection]) throws {
        let withData = sections.filter { !$0.isNoBits && $0.type != 0 && $0.size > 0 }
            .sorted { $0.offset < $1.offset }
        for (previous, next) in zip(withData, withData.dropFirst()) where previous.offset + previous.size > next.offset {
            throw ELFError.inconsistent(
                "sections \(previous.name.isEmpty ? "#\(previous.index)" : previous.name) and \(next.name.isEmpty ? "#\(next.index)" : next.name) overlap in the file"
            )
        }
    }

    private static func readSymbols(_ reader: ByteReader, sections: [ELFSection]) throws -> [ELFSymbol] {
        guard let table = sections.first(where: { $0.type == ELFLayout.sectionTypeSymbolTable }) else { return [] }
        guard table.entrySize == ELFLayout.symbolSize else {
            throw ELFError.inconsistent("symbol table entry size is \(table.entrySize), expected \(ELFLayout.symbolSize)")
        }
        guard Int(table.link) < sections.count, sections[Int(table.link)].type == ELFLayout.sectionTypeStringTable else {
            throw ELFError.inconsistent("the symbol table's string table (section \(table.link)) is not a string table")
        }
        let strings = sections[Int(table.link)]
        var symbols: [ELFSymbol] = []
        let count = table.size / ELFLayout.symbolSize
        for index in 0..<count {
            let base = Int(table.offset + index * ELFLayout.symbolSize)
            let nameOffset = try reader.u32(base, "st_name")
            let info = try reader.u8(base + 4, "st_info")
            let sectionIndex = try reader.u16(base + 6, "st_shndx")
            let value = try reader.u64(base + 8, "st_value")
            let size = try reader.u64(base + 16, "st_size")
            let name = nameOffset == 0 ? "" : try reader.cString(strings.offset + UInt64(nameOffset), limit: strings.offset + strings.size, "symbol name")
            symbols.append(ELFSymbol(name: name, value: value, size: size, binding: info >> 4, type: info & 0xF, sectionIndex: sectionIndex))
        }
        return symbols
    }
}

public struct ELFSegment: Sendable, Equatable {
    public let type: UInt32
    public let flags: UInt32
    public let offset: UInt64
    public let virtualAddress: UInt64
    public let physicalAddress: UInt64
    public let fileSize: UInt64
    public let memorySize: UInt64

    public var isLoadable: Bool { type == ELFLayout.segmentTypeLoad }
}

public struct ELFSection: Sendable, Equatable {
    public let index: Int
    public internal(set) var name: String
    public let type: UInt32
    public let flags: UInt64
    public let address: UInt64
    public let offset: UInt64
    public let size: UInt64
    public let link: UInt32
    public let entrySize: UInt64

    public var isNoBits: Bool { type == ELFLayout.sectionTypeNoBits }
    public var isAllocated: Bool { flags & ELFLayout.sectionFlagAlloc != 0 }
}

public struct ELFSymbol: Sendable, Equatable {
    public let name: String
    public let value: UInt64
    public let size: UInt64
    public let binding: UInt8
    public let type: UInt8
    public let sectionIndex: UInt16

    public var isGlobal: Bool { binding == ELFLayout.bindingGlobal }
    public var isDefined: Bool { sectionIndex != 0 }
}

/// The ELF constants we rely on (System V gABI and the x86-64 psABI).
enum ELFLayout {
    static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    static let class64: UInt8 = 2
    static let littleEndian: UInt8 = 1
    // EM_X86_64, spelled as the ELF specification names it.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    static let machineX86_64: UInt16 = 62
    static let headerSize = 64
    static let programHeaderSize: UInt16 = 56
    static let sectionHeaderSize: UInt16 = 64
    static let symbolSize: UInt64 = 24
    static let segmentTypeLoad: UInt32 = 1
    static let sectionTypeSymbolTable: UInt32 = 2
    static let sectionTypeStringTable: UInt32 = 3
    static let sectionTypeNoBits: UInt32 = 8
    static let sectionFlagAlloc: UInt64 = 2
    static let bindingGlobal: UInt8 = 1
}

public enum ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated(Int)
    case badMagic
    case unsupported(String)
    case inconsistent(String)
    case outOfBounds(String)

    public var description: String {
        switch self {
        case .truncated(let size): "not an ELF file: only \(size) bytes, an ELF64 header needs 64"
        case .badMagic: "not an ELF file: bad magic (expected 7F 45 4C 46)"
        case .unsupported(let what): "unsupported ELF: \(what)"
        case .inconsistent(let what): "malformed ELF: \(what)"
        case .outOfBounds(let what): "malformed ELF: \(what)"
        }
    }
}
